# written by lesson03-centering (seed 137)
# edit and re-run: gnuplot information.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "information.png"
set title "How much the teacher's target depends on the image: h(mean P_t) - mean h(P_t)"
set xlabel "step"
set ylabel "nats (50-step average)"
set grid
set key outside right
set key below
set yrange [0:*]
plot "information.dat" using 1:2 with lines lw 2 title "both (centre on, τt 0.04)", \
     "information.dat" using 1:4 with lines lw 2 title "centring only (centre on, τt 0.1)", \
     "information.dat" using 1:6 with lines lw 2 title "sharpening only (centre off, τt 0.04)", \
     "information.dat" using 1:8 with lines lw 2 title "neither (centre off, τt 0.1)"
