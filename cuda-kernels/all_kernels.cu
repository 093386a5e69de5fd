// The single translation unit nvcc compiles into tramontane.fatbin: one #include per kernel file.
#include "rmsnorm.cu"
