// zlib, for gzip-compressed IDX files (inflate only).
#include <zlib.h>
