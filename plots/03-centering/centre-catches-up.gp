# written by lesson03-centering (seed 137)
# edit and re-run: gnuplot centre-catches-up.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "centre-catches-up.png"
set title "+0.5 on dimension 0 of a trained teacher: the centre absorbs it (m = 0.9)"
set xlabel "centre updates since the offset"
set ylabel "share of the teacher's mass on dimension 0"
set grid
set key outside right
set y2tics
set ytics nomirror
set y2label "offset left in the teacher logits"
set yrange [0:1.05]
set y2range [-0.0262:0.525]
set key below
plot "centre-catches-up.dat" using 1:2 with lines lw 2 title "with the centre", \
     "centre-catches-up.dat" using 1:3 with lines lw 2 title "without the centre", \
     "centre-catches-up.dat" using 1:4 with lines dt 2 lw 1 lc rgb "#555555" title "before the offset", \
     "centre-catches-up.dat" using 1:5 with points pt 7 ps 0.7 lc rgb "#d55e00" axes x1y2 title "offset not yet absorbed (right axis)", \
     "centre-catches-up.dat" using 1:6 with lines lw 1.5 lc rgb "#000000" axes x1y2 title "0.5·0.9^n (right axis)"
