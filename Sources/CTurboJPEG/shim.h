// libjpeg-turbo's TurboJPEG API: whole-buffer decode and encode with error codes and messages
// (tjGetErrorStr2), no setjmp/longjmp error handler as the classic libjpeg API needs.
#include <stddef.h>
#include <turbojpeg.h>
