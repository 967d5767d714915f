# written by lesson07-dino-training (seed 0)
# edit and re-run: gnuplot knn-vs-k.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "knn-vs-k.png"
set title "Weighted k-NN top-1 after training (60000 train / 10000 test images)"
set xlabel "k (neighbours)"
set ylabel "top-1 (%)"
set grid
set key outside right
set logscale x
set xtics (10, 20, 100, 200)
set xrange [8:250]
plot "knn-vs-k.dat" using 1:2 with linespoints lw 2 pt 7 title "DINO teacher", \
     "knn-vs-k.dat" using 1:3 with linespoints lw 2 pt 5 title "raw pixels", \
     "knn-vs-k.dat" using 1:4 with linespoints lw 2 pt 9 title "random-init ViT"
