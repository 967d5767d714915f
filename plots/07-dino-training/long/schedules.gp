# written by dino train (config default, seed 0)
# edit and re-run: gnuplot schedules.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "schedules.png"
set title "Schedules (per iteration; τt per epoch)"
set xlabel "iteration"
set ylabel "lr"
set grid
set key outside right
set y2tics
set y2label "wd, λ, τt"
set format y "%.0e"
plot "schedules.dat" using 1:2 with lines lw 2 title "lr (left)", \
     "schedules.dat" using 1:3 with lines lw 2 axes x1y2 title "weight decay (right)", \
     "schedules.dat" using 1:4 with lines lw 2 axes x1y2 title "teacher momentum λ (right)", \
     "schedules.dat" using 1:5 with lines lw 2 axes x1y2 title "τt (right)"
