# The DINO training loop (Caron et al. 2021, Fig. 2 and Algorithm 1), drawn with gnuplot.
# Edit and re-run: gnuplot dino-loop.gp (from this folder).
set terminal pngcairo size 1100,560 enhanced font "Sans,12"
set output "dino-loop.png"
unset border; unset tics; unset key
set xrange [0:110]; set yrange [0:57]
set style rectangle fillstyle solid 1.0 border lc rgb "#333333"

# boxes: image, views, networks, softmaxes, loss
set object 1 rect from 2,24 to 14,32 fc rgb "#eeeeee"
set label 1 "image x" at 8,28 center
set object 2 rect from 24,38 to 40,46 fc rgb "#dbe9f6"
set label 2 "all crops:\n2 global + local" at 32,42 center
set object 3 rect from 24,10 to 40,18 fc rgb "#fde2cf"
set label 3 "the 2 global\ncrops only" at 32,14 center
set object 4 rect from 50,38 to 66,46 fc rgb "#9ecae1"
set label 4 "student g_{θs}\nViT + head" at 58,42 center
set object 5 rect from 50,10 to 66,18 fc rgb "#fdae6b"
set label 5 "teacher g_{θt}\nViT + head" at 58,14 center
set object 6 rect from 69.5,38 to 93.5,46 fc rgb "#dbe9f6"
set label 6 "P_s = softmax(s / τ_s)\nτ_s = 0.1" at 81.5,42 center
set object 7 rect from 69.5,10 to 93.5,18 fc rgb "#fde2cf"
set label 7 "P_t = softmax((t − c) / τ_t)\ncentre c, sharpen τ_t = 0.04" at 81.5,14 center
set object 8 rect from 95,24 to 109,32 fc rgb "#c7e9c0"
set label 8 "loss\n−P_t · log P_s" at 102,28 center

# data flow
set arrow 1 from 14,29 to 24,42 head filled lw 1.5
set arrow 2 from 14,27 to 24,14 head filled lw 1.5
set label 9 "augment" at 17,38 center tc rgb "#555555"
set label 10 "augment" at 17,18 center tc rgb "#555555"
set arrow 3 from 40,42 to 50,42 head filled lw 1.5
set arrow 4 from 40,14 to 50,14 head filled lw 1.5
set arrow 5 from 66,42 to 69.5,42 head filled lw 1.5
set arrow 6 from 66,14 to 69.5,14 head filled lw 1.5
set arrow 7 from 93.5,40 to 97,32 head filled lw 1.5
set arrow 8 from 93.5,16 to 97,24 head filled lw 1.5

# stop-gradient on the teacher branch
set object 9 circle at 94.5,20 size 0.8 fc rgb "#b30000" fillstyle solid front
set label 11 "stop-gradient:\nno backward\ninto the teacher" at 95,14 left tc rgb "#b30000"

# gradient back into the student only: up from the loss, left above the boxes, down into the student
set arrow 9 from 104,32 to 104,50 nohead lw 2 dt 2 lc rgb "#2171b5"
set arrow 12 from 104,50 to 58,50 nohead lw 2 dt 2 lc rgb "#2171b5"
set arrow 13 from 58,50 to 58,46 head filled lw 2 dt 2 lc rgb "#2171b5"
set label 12 "backprop, AdamW: the student only" at 81,51.5 center tc rgb "#2171b5"

# EMA teacher
set arrow 10 from 58,38 to 58,18 head filled lw 2 lc rgb "#d94801"
set label 13 "EMA:  θ_t ← λ θ_t + (1 − λ) θ_s\nλ: 0.996 → 1 (cosine)" at 59.5,28 left tc rgb "#d94801"

# centre update
set arrow 11 from 81.5,10 to 81.5,5.5 head filled lw 1.5 dt 3 lc rgb "#555555"
set label 14 "centre update: c ← m c + (1 − m) mean(t), m = 0.9 (after the loss used the old c)" at 68,3.5 center tc rgb "#555555"

set label 15 "DINO: a student learns to match a momentum teacher across views; no labels anywhere" at 55,55 center font "Sans,13"
plot NaN notitle
