# written by lesson05-ema-teacher (seed 137)
# edit and re-run: gnuplot teacher-vs-student-loss.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "teacher-vs-student-loss.png"
set title "Test loss of the student (AdamW, lr 0.05, batch 8) and of its EMA teacher"
set xlabel "step"
set ylabel "test cross-entropy (nats, log scale)"
set grid
set key outside right
set logscale y
set arrow from 792, graph 0 to 792, graph 1 nohead dt 3
set label "start < 5% of the teacher" at 792, graph 0.04 left offset 0.5,0
set key top right inside
set yrange [0.07:2.2]
plot "teacher-vs-student-loss.dat" using 1:2 with lines lw 2 title "student", \
     "teacher-vs-student-loss.dat" using 1:3 with lines lw 2 title "EMA teacher (m 0.996 → 1)"
