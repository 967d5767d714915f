# written by lesson09-emerging-properties (seed 0)
# edit and re-run: gnuplot teacher-vs-student-jaccard.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "teacher-vs-student-jaccard.png"
set title "Jaccard (best head) of teacher and student during training"
set xlabel "epochs"
set ylabel "Jaccard (%)"
set grid
set key outside right
set key bottom right inside
set yrange [0:*]
plot "teacher-vs-student-jaccard.dat" using 1:4 with linespoints lw 2 pt 7 title "teacher", \
     "teacher-vs-student-jaccard.dat" using 1:5 with linespoints lw 2 pt 5 title "student"
