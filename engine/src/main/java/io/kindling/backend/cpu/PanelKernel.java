package io.kindling.backend.cpu;

/**
 * The inner loop of {@link PackedMatrix}: accumulates {@code acc[r][c] += x[r][i] * panel[i][c]} for i ascending,
 * one operation per element and step whatever the row grouping, so a row's result never depends on its
 * neighbours. Two implementations: the Vector API one (several times faster, needs
 * {@code --add-modules jdk.incubator.vector} at run time) and plain loops that C2 vectorizes as far as it can.
 */
interface PanelKernel {

    /** Output features per panel. */
    int panelWidth();

    /**
     * @param data      packed weights; the panel starts at {@code panelBase} as {@code [in][panelWidth]}
     * @param x         activations {@code [rows][in]}
     * @param acc       {@code acc[r - r0]} accumulates row r, {@code panelWidth} floats each
     */
    void accumulate(float[] data, int panelBase, int in, float[] x, int r0, int r1, float[][] acc);

    String description();

    /** The Vector API kernel when the JVM resolved {@code jdk.incubator.vector}, else the plain-loop one. */
    static PanelKernel best() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            try {
                return (PanelKernel) Class.forName("io.kindling.backend.cpu.VectorPanelKernel")
                        .getDeclaredConstructor().newInstance();
            } catch (ReflectiveOperationException | LinkageError e) {
                return new ScalarPanelKernel();
            }
        }
        return new ScalarPanelKernel();
    }
}
