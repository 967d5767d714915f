# written by lesson03-centering (seed 137)
# edit and re-run: gnuplot kl.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "kl.png"
set title "KL(P_t ‖ P_s) during training (50-step average): 0 = nothing left to learn"
set xlabel "step"
set ylabel "KL (nats, log scale)"
set grid
set key outside right
set logscale y
set key below
set format y "1e%L"
plot "kl.dat" using 1:2 with lines lw 2 title "both (centre on, τt 0.04)", \
     "kl.dat" using 1:4 with lines lw 2 title "centring only (centre on, τt 0.1)", \
     "kl.dat" using 1:6 with lines lw 2 title "sharpening only (centre off, τt 0.04)", \
     "kl.dat" using 1:8 with lines lw 2 title "neither (centre off, τt 0.1)"
