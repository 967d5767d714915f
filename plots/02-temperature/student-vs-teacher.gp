# written by lesson02-temperature (seed 137)
# edit and re-run: gnuplot student-vs-teacher.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "student-vs-teacher.png"
set title "The same logits as the student (τs 0.1) and the teacher (τt 0.07, 0.04) see them"
set xlabel "logit (z = 0.9, 0.7, 0.4, 0.1, -0.3)"
set ylabel "probability (log scale)"
set grid
set key outside right
set logscale y
set style fill solid 0.75 border -1
set boxwidth 0.27
set xtics 1
set yrange [1e-14:1]
set format y "1e%L"
set xrange [0.4:5.6]
plot "student-vs-teacher.dat" using ($1-0.27):2 with boxes title "student τs = 0.1", \
     "student-vs-teacher.dat" using 1:3 with boxes title "teacher τt = 0.07", \
     "student-vs-teacher.dat" using ($1+0.27):4 with boxes title "teacher τt = 0.04"
