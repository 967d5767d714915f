# written by lesson05-ema-teacher (seed 137)
# edit and re-run: gnuplot dino-teacher-vs-student.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "dino-teacher-vs-student.png"
set title "DINO on Fashion-MNIST (smoke model): k-NN@20 of the EMA teacher and of the student"
set xlabel "epochs"
set ylabel "k-NN@20 top-1 (%)"
set grid
set key outside right
set key bottom right inside
plot "dino-teacher-vs-student.dat" using 1:3 with linespoints lw 2 pt 7 title "student", \
     "dino-teacher-vs-student.dat" using 1:2 with linespoints lw 2 pt 5 title "EMA teacher"
