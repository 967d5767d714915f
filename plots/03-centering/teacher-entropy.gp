# written by lesson03-centering (seed 137)
# edit and re-run: gnuplot teacher-entropy.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "teacher-entropy.png"
set title "Teacher entropy h(P_t) during training (50-step average): ln K = uniform, 0 = one-hot"
set xlabel "step"
set ylabel "h(P_t) (nats)"
set grid
set key outside right
set key below
set yrange [0:3.8]
plot "teacher-entropy.dat" using 1:2 with lines lw 2 title "both (centre on, τt 0.04)", \
     "teacher-entropy.dat" using 1:4 with lines lw 2 title "centring only (centre on, τt 0.1)", \
     "teacher-entropy.dat" using 1:6 with lines lw 2 title "sharpening only (centre off, τt 0.04)", \
     "teacher-entropy.dat" using 1:8 with lines lw 2 title "neither (centre off, τt 0.1)", \
     "teacher-entropy.dat" using 1:10 with lines dt 2 lw 1 lc rgb "#555555" title "ln K = 3.47 (uniform)"
