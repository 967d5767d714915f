# written by lesson01-views (seed 137)
# edit and re-run: gnuplot crop-areas-28px.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "crop-areas-28px.png"
set title "Crop area w·h/(W·H) on the 28x28 Fashion-MNIST item: 20000 images × (2 global + 6 local)"
set xlabel "area fraction of the picture"
set ylabel "density"
set grid
set key outside right
set xrange [0:1]
set yrange [0:*]
set key inside top right
plot "crop-areas-28px.dat" using 1:2 with steps lw 2 lc rgb '#d62728' title "global crops", \
     "crop-areas-28px.dat" using 1:3 with steps lw 2 lc rgb '#1f77b4' title "local crops", \
     "crop-areas-28px.dat" using 1:4 with steps lw 1 dt 2 lc rgb '#d62728' title "if s ~ U[0.4, 1) were kept as drawn", \
     "crop-areas-28px.dat" using 1:5 with steps lw 1 dt 2 lc rgb '#1f77b4' title "if s ~ U[0.05, 0.4) were kept as drawn"
