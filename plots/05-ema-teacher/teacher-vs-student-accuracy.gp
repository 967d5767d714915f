# written by lesson05-ema-teacher (seed 137)
# edit and re-run: gnuplot teacher-vs-student-accuracy.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "teacher-vs-student-accuracy.png"
set title "Test accuracy of the student and of its EMA teacher (cf. the paper's Fig. 6)"
set xlabel "step"
set ylabel "test accuracy (zoomed: the first steps start lower)"
set grid
set key outside right
set arrow from 792, graph 0 to 792, graph 1 nohead dt 3
set label "start < 5% of the teacher" at 792, graph 0.04 left offset 0.5,0
set key bottom right inside
set yrange [0.90:0.975]
plot "teacher-vs-student-accuracy.dat" using 1:4 with lines lw 2 title "student", \
     "teacher-vs-student-accuracy.dat" using 1:5 with lines lw 2 title "EMA teacher (m 0.996 → 1)"
