# written by lesson06-vit (seed 137)
# edit and re-run: gnuplot pos-embed-resample.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "pos-embed-resample.png"
set title "Position table, 14 → 6 columns (224 px → 96 px crop, patch 16)"
set xlabel "source column (grid coordinate)"
set ylabel "table value (one feature)"
set grid
set key outside right
set yrange [-1.6:1.9]
set key inside top left
plot "pos-embed-resample.dat" index 0 using 1:2 with linespoints pt 7 lw 1 title "table (14 columns)", \
     "pos-embed-resample.dat" index 1 using 1:2 with points pt 9 ps 2 title "resampled (6 columns)", \
     "pos-embed-resample.dat" index 2 using 1:(-1.4) with points pt 2 ps 2 title "a plain 6/14 resize would sample here"
