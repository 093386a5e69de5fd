package io.tramontane.cli;

import picocli.CommandLine;

/** Reads the version Maven stamped into the jar manifest. */
final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String version = Main.class.getPackage().getImplementationVersion();
        return new String[] {"tramontane " + (version == null ? "(development build)" : version)
                + " on Java " + Runtime.version()};
    }
}
