# written by dino train (config default, seed 0)
# edit and re-run: gnuplot knn.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "knn.png"
set title "Weighted k-NN@20 during training (10000 train / 2000 test images)"
set xlabel "epoch"
set ylabel "top-1 (%)"
set grid
set key outside right
plot "knn.dat" using 1:2 with linespoints lw 2 pt 7 title "teacher", \
     "knn.dat" using 1:3 with linespoints lw 2 pt 5 title "student"
