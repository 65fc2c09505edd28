package io.kindling.testing;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.spi.ToolProvider;

/** The dependencies between a module's {@code io.kindling} packages, read with the JDK's jdeps, and their cycles. */
public final class PackageCycles {

    private static final Pattern EDGE = Pattern.compile("^\\s*(io\\.kindling[\\w.]*)\\s+->\\s+(io\\.kindling[\\w.]*)\\s");

    private PackageCycles() {
    }

    /** Package -> the other io.kindling packages its classes use, for the class files under {@code classes}. */
    public static Map<String, Set<String>> dependencies(Path classes) {
        ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow(
                () -> new IllegalStateException("jdeps is not in this JDK"));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = jdeps.run(new PrintWriter(out), new PrintWriter(err), "-verbose:package", "-filter:none",
                "-e", "io\\.kindling\\..*", classes.toString());
        if (status != 0) {
            throw new IllegalStateException("jdeps failed on " + classes + ": " + err);
        }
        Map<String, Set<String>> graph = new TreeMap<>();
        for (String line : out.toString().split("\n")) {
            Matcher m = EDGE.matcher(line);
            if (m.find() && !m.group(1).equals(m.group(2))) {
                graph.computeIfAbsent(m.group(1), k -> new TreeSet<>()).add(m.group(2));
            }
        }
        return graph;
    }

    /** A cycle of packages (its first package repeated at the end), if the graph has one. */
    public static Optional<List<String>> findCycle(Map<String, Set<String>> graph) {
        Set<String> done = new TreeSet<>();
        for (String start : graph.keySet()) {
            List<String> path = new ArrayList<>();
            Optional<List<String>> cycle = visit(start, graph, path, done);
            if (cycle.isPresent()) {
                return cycle;
            }
        }
        return Optional.empty();
    }

    private static Optional<List<String>> visit(String pkg, Map<String, Set<String>> graph, List<String> path,
                                                Set<String> done) {
        int at = path.indexOf(pkg);
        if (at >= 0) {
            List<String> cycle = new ArrayList<>(path.subList(at, path.size()));
            cycle.add(pkg);
            return Optional.of(cycle);
        }
        if (done.contains(pkg)) {
            return Optional.empty();
        }
        path.add(pkg);
        for (String next : graph.getOrDefault(pkg, Set.of())) {
            Optional<List<String>> cycle = visit(next, graph, path, done);
            if (cycle.isPresent()) {
                return cycle;
            }
        }
        path.remove(path.size() - 1);
        done.add(pkg);
        return Optional.empty();
    }
}
