package io.kindling.spark.job;

import java.io.IOException;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The partitions whose part files a job already committed to an output directory. Spark names a task's file
 * {@code part-<partition>-<job uuid>...}, and with the version 2 file committer a task's file lands in the
 * directory when the task commits, so a killed job leaves exactly its finished partitions there (files still
 * being written stay under {@code _temporary}).
 */
final class CommittedParts {

    private static final Pattern PART = Pattern.compile("part-(\\d{5,})-.*");

    private CommittedParts() {
    }

    /** The partition numbers of the part files at the top of {@code output}; none if it does not exist. */
    static Set<Integer> in(String output, Configuration hadoop) {
        Path dir = new Path(output);
        Set<Integer> partitions = new TreeSet<>();
        try {
            FileSystem fs = dir.getFileSystem(hadoop);
            if (!fs.exists(dir)) {
                return partitions;
            }
            for (FileStatus file : fs.listStatus(dir)) {
                Matcher part = PART.matcher(file.getPath().getName());
                if (file.isFile() && part.matches()) {
                    partitions.add(Integer.parseInt(part.group(1)));
                }
            }
        } catch (IOException e) {
            throw new JobException("cannot list the output " + output + " to resume: " + e.getMessage(), e);
        }
        return partitions;
    }
}
