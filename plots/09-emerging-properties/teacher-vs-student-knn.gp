# written by lesson09-emerging-properties (seed 0)
# edit and re-run: gnuplot teacher-vs-student-knn.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "teacher-vs-student-knn.png"
set title "k-NN@20 of teacher and student during training (Fig. 6 left); λ on the right axis"
set xlabel "epochs"
set ylabel "k-NN@20 top-1 (%)"
set grid
set key outside right
set y2tics
set y2label "λ"
set key bottom right inside
plot "teacher-vs-student-knn.dat" using 1:2 with linespoints lw 2 pt 7 title "teacher", \
     "teacher-vs-student-knn.dat" using 1:3 with linespoints lw 2 pt 5 title "student", \
     "teacher-vs-student-knn.dat" using 1:6 with lines dt 2 lw 1.5 lc rgb 'gray' axes x1y2 title "teacher momentum λ (right)"
