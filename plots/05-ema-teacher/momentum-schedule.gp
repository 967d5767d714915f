# written by lesson05-ema-teacher (seed 137)
# edit and re-run: gnuplot momentum-schedule.gp (from this folder)
set terminal pngcairo size 900,540 noenhanced font "Sans,11"
set output "momentum-schedule.png"
set title "Teacher momentum m(it) = 1 - 0.004·(1 + cos(π·it/T))/2, per iteration (100 epochs × 1251)"
set xlabel "epoch"
set ylabel "m"
set grid
set key outside right
set yrange [0.9958:1.0002]
set format y "%.4f"
unset key
plot "momentum-schedule.dat" using 1:2 with lines lw 2 title "m(it)"
