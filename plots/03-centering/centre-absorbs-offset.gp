# written by lesson03-centering (seed 137)
# edit and re-run: gnuplot centre-absorbs-offset.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "centre-absorbs-offset.png"
set title "The part of the +0.5 the centre has not absorbed yet, against 0.5·0.9^n"
set xlabel "centre updates since the offset"
set ylabel "offset left in the teacher logits"
set grid
set key outside right
set yrange [-0.02:0.55]
set key inside top right
plot "centre-absorbs-offset.dat" using 1:5 with points pt 7 ps 0.8 lc rgb "#d55e00" title "measured: 0.5 - (c_n[0] - c_0[0])", \
     "centre-absorbs-offset.dat" using 1:6 with lines lw 1.5 lc rgb "#000000" title "0.5·0.9^n"
