# written by lesson05-ema-teacher (seed 137)
# edit and re-run: gnuplot momentum-schedule-end.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "momentum-schedule-end.png"
set title "1 - m against the iterations still to go (log-log): the teacher's updates vanish at the end"
set xlabel "iterations until the end of training, T - it"
set ylabel "1 - m(it)"
set grid
set key outside right
set logscale x
set logscale y
set format y "1e%L"
set format x "1e%L"
set key top left inside
set arrow from 1251, graph 0 to 1251, graph 1 nohead dt 3
set label "last epoch" at 1251, graph 0.08 right offset -0.5,0
plot "momentum-schedule-end.dat" using 1:2 with lines lw 2 title "1 - m(it)", \
     "momentum-schedule-end.dat" using 1:3 with lines dt 2 lw 1.5 title "0.004·(π·r/2T)^2, the small-r approximation"
