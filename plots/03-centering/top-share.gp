# written by lesson03-centering (seed 137)
# edit and re-run: gnuplot top-share.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "top-share.png"
set title "Share of the teacher's mass on its most used dimension (1/K = 0.031 … 1)"
set xlabel "step"
set ylabel "largest column of mean P_t (50-step average)"
set grid
set key outside right
set key below
set yrange [0:1.05]
plot "top-share.dat" using 1:2 with lines lw 2 title "both (centre on, τt 0.04)", \
     "top-share.dat" using 1:4 with lines lw 2 title "centring only (centre on, τt 0.1)", \
     "top-share.dat" using 1:6 with lines lw 2 title "sharpening only (centre off, τt 0.04)", \
     "top-share.dat" using 1:8 with lines lw 2 title "neither (centre off, τt 0.1)"
