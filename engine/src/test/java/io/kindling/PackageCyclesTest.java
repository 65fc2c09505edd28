package io.kindling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.core.LlmEngine;
import io.kindling.testing.PackageCycles;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PackageCyclesTest {

    @Test
    void theEnginesPackagesHaveNoCycle() throws URISyntaxException {
        Path classes = Path.of(LlmEngine.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Map<String, Set<String>> graph = PackageCycles.dependencies(classes);
        assertTrue(graph.getOrDefault("io.kindling.core", Set.of()).contains("io.kindling.backend"), graph::toString);
        assertEquals(Optional.empty(), PackageCycles.findCycle(graph));
    }

    @Test
    void findsACycle() {
        Map<String, Set<String>> graph = Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a"), "d", Set.of("a"));
        List<String> cycle = PackageCycles.findCycle(graph).orElseThrow();
        assertEquals(4, cycle.size());
        assertEquals(cycle.get(0), cycle.get(3));
        assertEquals(Set.of("a", "b", "c"), Set.copyOf(cycle));
        assertEquals(Optional.empty(), PackageCycles.findCycle(Map.of("a", Set.of("b"), "b", Set.of("c"))));
    }
}
