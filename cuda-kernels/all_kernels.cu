// The single translation unit nvcc compiles into tramontane.fatbin: one #include per kernel file.
#include "rmsnorm.cu"
#include "embedding.cu"
#include "elementwise.cu"
#include "rope.cu"
#include "linear.cu"
#include "attention.cu"
#include "roofline.cu"
#include "moe.cu"
