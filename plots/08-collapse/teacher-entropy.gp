# written by lesson08-collapse (seed 0)
# edit and re-run: gnuplot teacher-entropy.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "teacher-entropy.png"
set title "Teacher entropy h(P_t) per iteration: ln K = uniform collapse, 0 = one-hot collapse"
set xlabel "iteration"
set ylabel "h(P_t) (nats)"
set grid
set key outside right
set yrange [0:6.045177444479562]
plot "teacher-entropy.dat" using 1:2 with lines lw 2 title "full DINO", \
     "teacher-entropy.dat" using 1:3 with lines lw 2 title "centring only", \
     "teacher-entropy.dat" using 1:4 with lines lw 2 title "sharpening only", \
     "teacher-entropy.dat" using 1:5 with lines lw 2 title "no momentum", \
     "teacher-entropy.dat" using 1:6 with lines lw 2 title "τt = 0.02", \
     "teacher-entropy.dat" using 1:7 with lines lw 2 title "τt = 0.08", \
     "teacher-entropy.dat" using 1:8 with lines dt 2 lw 1 lc rgb "#777777" title "ln K"
