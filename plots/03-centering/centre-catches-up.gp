# written by lesson03-centering (seed 137)
# edit and re-run: gnuplot centre-catches-up.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "centre-catches-up.png"
set title "+0.5 on dimension 0 of a trained teacher: its share of the mass, with and without the centre"
set xlabel "centre updates since the offset"
set ylabel "share of the teacher's mass on dimension 0"
set grid
set key outside right
set yrange [0:1.05]
set key below
plot "centre-catches-up.dat" using 1:2 with lines lw 2 title "with the centre", \
     "centre-catches-up.dat" using 1:3 with lines lw 2 title "without the centre", \
     "centre-catches-up.dat" using 1:4 with lines dt 2 lw 1 lc rgb "#555555" title "before the offset"
