package io.tramontane.bench;

import io.tramontane.weights.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Fills weight memory with valid floats of a chosen magnitude at memory speed. Instead of converting
 * one float at a time, each 64-bit xorshift output is masked into several packed values at once: its
 * random bits give sign and mantissa, a fixed exponent plus one random exponent bit put every value
 * in {@code [2^E, 2^(E+2))}. No NaN, infinity or denormal can arise, and the root mean square is
 * about {@code 2.4 * 2^E}.
 */
final class RandomWeights {
    private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final double RMS_PER_SCALE = 2.415;

    /**
     * How one dtype's lanes sit in a 64-bit word.
     *
     * @param maxBiased the largest biased exponent E may take: one below the top finite exponent, since
     *                  the random bit may add one (e4m3's top exponent is finite except with mantissa 111)
     */
    private record Packing(int laneBits, int mantissaBits, int exponentBias, int maxBiased) {
        long replicate(long laneValue) {
            long word = 0;
            for (int shift = 0; shift < 64; shift += laneBits) word |= laneValue << shift;
            return word;
        }

        long signAndMantissa() {
            return replicate((1L << (laneBits - 1)) | ((1L << mantissaBits) - 1));
        }

        long exponent(int unbiased) {
            return replicate((long) (unbiased + exponentBias) << mantissaBits);
        }

        long exponentLowBit() {
            return replicate(1L << mantissaBits);
        }
    }

    private RandomWeights() {}

    /** The exponent E whose values have a root mean square closest to {@code rms}. */
    static int exponentFor(double rms) {
        return (int) Math.round(Math.log(rms / RMS_PER_SCALE) / Math.log(2));
    }

    /** The root mean square of values filled with exponent E. */
    static double rmsOf(int exponent) {
        return RMS_PER_SCALE * Math.scalb(1.0, exponent);
    }

    /**
     * Fills {@code data} (a whole number of 8-byte words) with values of exponent E (see class comment).
     * E ranges over normal values: up to 126 for F32 and BF16, -6..6 for FP8 e4m3.
     */
    static void fill(MemorySegment data, DType dtype, int exponent, long seed) {
        Packing packing = switch (dtype) {
            case F32 -> new Packing(32, 23, 127, 253);
            case BF16 -> new Packing(16, 7, 127, 253);
            case F8_E4M3 -> new Packing(8, 3, 7, 13);
            default -> throw new IllegalArgumentException("no random weights for " + dtype);
        };
        int biased = exponent + packing.exponentBias();
        if (biased < 1 || biased > packing.maxBiased()) {
            throw new IllegalArgumentException("exponent " + exponent + " out of the normal range of " + dtype);
        }
        if (data.byteSize() % 8 != 0) throw new IllegalArgumentException("fill needs whole words, got " + data.byteSize() + " bytes");
        long keep = packing.signAndMantissa(), base = packing.exponent(exponent), bump = packing.exponentLowBit();
        long x = seed * 0x9E3779B97F4A7C15L | 1;
        for (long offset = 0, end = data.byteSize(); offset < end; offset += 8) {
            x ^= x >>> 12;
            x ^= x << 25;
            x ^= x >>> 27;
            long r = x * 0x2545F4914F6CDD1DL;
            // the exponent field is below its top value, so adding the random bit never carries into the sign
            data.set(WORD, offset, ((r & keep) | base) + (r & bump));
        }
    }
}
