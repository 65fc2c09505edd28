package io.kindling.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The tile choice against the fastest tile measured on an H100 (132 multiprocessors) by {@code GemmBench
 * --all-tiles --m 128,192,256,384,512,1024}, benchmarks/logs/gemm-alltiles-decode-h100-2026-12-06.txt: the
 * decode and mixed batch sizes, where the grid no longer fills the GPU and the choice matters most. The 64 x 128
 * wgmma tile came later: its cases are from gemm-alltiles-wgmma64-h100-2026-12-07-s11.txt and
 * gemm-alltiles-wgmma64-mid-h100-2026-12-07-s11.txt, and where the isolated bench and the engine's decode step
 * disagree, the step decides.
 */
class GemmTileChoiceTest {

    private static final int H100_SMS = 132;
    private static final Set<Gemm.Tile> HOPPER = EnumSet.allOf(Gemm.Tile.class);

    @ParameterizedTest(name = "m={0} n={1}: {2}")
    @CsvSource({
        // Llama-3.2-1B o (n 2048): many small mma.sync CTAs while m is small. At 256 the isolated bench puts the
        // 64 x 128 wgmma tile ahead (25.1 against 27.5 us), the decode step behind (o 0.309 against 0.299 ms)
        "128, 2048, T64X32",
        "256, 2048, T64X32",
        // from 384 the 64 x 128 wgmma tile
        "384, 2048, T64X128_WGMMA",
        "512, 2048, T64X128_WGMMA",
        // Llama-3.2-1B qkv (n 3072), Llama-3.1-8B o (n 4096): the 64 x 128 wgmma tile's twice the CTAs of 128 x 128
        // (1B qkv at 256: 27.1 against 32.6 us; 8B o: 33.4 against 42.8, the step's o 0.964 against 1.184 ms)
        "256, 3072, T64X128_WGMMA",
        "256, 4096, T64X128_WGMMA",
        "192, 4096, T64X128_WGMMA",
        "128, 6144, T64X128_WGMMA",
        // Llama-3.1-8B qkv at 256 (n 6144): 96 CTAs of 128 x 128 already fill most of the GPU
        "256, 6144, T128X128_WGMMA",
        // gate_up and the LM head: 192 rows fit one 192 x 128 tile exactly
        "192, 16384, T192X128_WGMMA",
        "256, 28672, T128X128_WGMMA",
        "1024, 128256, T128X128_WGMMA",
    })
    void picksTheFastestMeasuredTile(int m, int n, Gemm.Tile fastest) {
        assertEquals(fastest, Gemm.choose(m, n, H100_SMS, HOPPER));
    }

    /**
     * The plans (tile and split of K) on the long-K down projections at m = 256, against every plan's time measured on
     * an H100 by {@code GemmBench --all-tiles --m 256} with K in segments of 2,048
     * (benchmarks/logs/gemm-alltiles-m256-seg2048-h100-2026-12-07-s9.txt).
     */
    @ParameterizedTest(name = "m={0} n={1} k={2}: {3} x{4}")
    @CsvSource({
        // Llama-3.2-1B down (2048 x 8192, 4 segments): the fastest of 27 plans, 44.8 us (x2: 57.7, x1: 89.3)
        "256, 2048, 8192, T128X128_WGMMA, 4",
        // Llama-3.1-8B down (4096 x 14336, 7 segments): 105.6 us, second to x3's 100.4 (x1: 140.2)
        "256, 4096, 14336, T128X128_WGMMA, 2",
    })
    void picksAMeasuredFastSplit(int m, int n, int k, Gemm.Tile tile, int splits) {
        assertEquals(new Gemm.Plan(tile, splits), Gemm.choose(m, n, k, H100_SMS, HOPPER, Gemm.WORKSPACE_BYTES));
    }

    /** The one-warpgroup wgmma tile is offered for a k of one segment only: a long K splits a larger tile. */
    @Test
    void aLongKNeverGetsTheOneWarpgroupTile() {
        for (int[] nk : new int[][] {{2048, 8192}, {4096, 14336}}) {
            for (int m : new int[] {65, 128, 192, 256, 384, 512, 2048}) {
                Gemm.Plan plan = Gemm.choose(m, nk[0], nk[1], H100_SMS, HOPPER, Gemm.WORKSPACE_BYTES);
                assertNotEquals(Gemm.Tile.T64X128_WGMMA, plan.tile(), () -> "m=" + m + " n=" + nk[0] + ": " + plan);
            }
        }
        assertEquals(Gemm.Tile.T64X128_WGMMA,
                Gemm.choose(256, 4096, 4096, H100_SMS, HOPPER, Gemm.WORKSPACE_BYTES).tile());
    }

    /** Decode sizes stream W over many CTAs already, and prefill fills the GPU: neither splits K. */
    @Test
    void splitsOnlyBetweenDecodeAndPrefill() {
        for (int[] nk : new int[][] {{2048, 8192}, {4096, 14336}, {4096, 4096}, {6144, 4096}}) {
            for (int m : new int[] {1, 16, 64, 2048, 8192}) {
                Gemm.Plan plan = Gemm.choose(m, nk[0], nk[1], H100_SMS, HOPPER, Gemm.WORKSPACE_BYTES);
                assertEquals(1, plan.splits(), () -> "m=" + m + " n=" + nk[0] + " k=" + nk[1] + ": " + plan);
            }
        }
    }

    /** One segment has nothing to split, and no workspace leaves nowhere to put the segments' totals. */
    @Test
    void neverSplitsOneSegmentOrWithoutWorkspace() {
        for (int m : new int[] {65, 128, 256, 512}) {
            assertEquals(1, Gemm.choose(m, 2048, Gemm.ONE_SEGMENT_K, H100_SMS, HOPPER, Gemm.WORKSPACE_BYTES).splits());
            assertEquals(1, Gemm.choose(m, 2048, 8192, H100_SMS, HOPPER, 0).splits());
        }
    }

    /** A wgmma tile traps on a device before compute capability 9: without them every size gets an mma.sync tile. */
    @Test
    void withoutWgmmaEverySizeGetsAnMmaSyncTile() {
        Set<Gemm.Tile> ampere = EnumSet.allOf(Gemm.Tile.class);
        ampere.removeIf(tile -> tile.hopperOnly);
        for (int m : new int[] {1, 16, 17, 64, 65, 256, 2048, 8192}) {
            for (int n : new int[] {32, 2048, 3072, 28672, 128256}) {
                Gemm.Tile tile = Gemm.choose(m, n, 108, ampere);
                assertTrue(ampere.contains(tile), "m=" + m + " n=" + n + ": " + tile);
            }
        }
    }
}
