# written by lesson08-collapse (seed 0)
# edit and re-run: gnuplot kl.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "kl.png"
set title "KL(P_t ‖ P_s) per iteration: 0 = the student has nothing left to learn"
set xlabel "iteration"
set ylabel "KL (nats, log scale, floor 1e-4)"
set grid
set key outside right
set logscale y
set yrange [1e-4:10]
plot "kl.dat" using 1:2 with lines lw 2 title "full DINO", \
     "kl.dat" using 1:3 with lines lw 2 title "centring only", \
     "kl.dat" using 1:4 with lines lw 2 title "sharpening only", \
     "kl.dat" using 1:5 with lines lw 2 title "no momentum", \
     "kl.dat" using 1:6 with lines lw 2 title "τt = 0.02", \
     "kl.dat" using 1:7 with lines lw 2 title "τt = 0.08"
