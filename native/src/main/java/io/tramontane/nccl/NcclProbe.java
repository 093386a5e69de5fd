package io.tramontane.nccl;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Whether NCCL can be used here, and if not, why, in words ("libnccl.so.2 not found (tried: ...)"). Probing
 * never throws; on success it holds the bound library and its version.
 *
 * @param version NCCL's version code (see {@link Nccl#version()}), 0 when unavailable
 */
public record NcclProbe(Optional<Nccl> nccl, String reason, int version) {
    /** The oldest NCCL whose API the bindings were written against (ncclGetLastError, ncclCommAbort semantics). */
    static final int MINIMUM_VERSION = 21800;

    public boolean available() {
        return nccl.isPresent();
    }

    /** Loads the first candidate that opens, of {@code first} and then (asked only if needed) {@code later}, and binds it. */
    static NcclProbe probe(List<String> first, Supplier<List<String>> later) {
        List<String> tried = new ArrayList<>(first);
        NcclProbe probe = firstThatOpens(first);
        if (probe != null) return probe;
        List<String> more = later.get();
        tried.addAll(more);
        probe = firstThatOpens(more);
        if (probe != null) return probe;
        return unavailable(NcclLibrary.SONAME + " not found (tried: " + String.join(", ", tried)
                + "; set " + NcclLibrary.OVERRIDE + " to its path)");
    }

    /** The probe of the first candidate that dlopen accepts, or null when none does. */
    private static NcclProbe firstThatOpens(List<String> candidates) {
        for (String library : candidates) {
            SymbolLookup lookup;
            try {
                lookup = SymbolLookup.libraryLookup(library, Arena.global());
            } catch (IllegalArgumentException e) {  // dlopen failed: try the next one
                continue;
            } catch (IllegalCallerException e) {
                return unavailable("native access is disabled: run java with --enable-native-access=ALL-UNNAMED");
            }
            return probe(lookup, library);
        }
        return null;
    }

    /** Binds the NCCL API exported by {@code lookup} and reads its version; {@code library} names it in reasons. */
    static NcclProbe probe(SymbolLookup lookup, String library) {
        Nccl nccl;
        try {
            nccl = Nccl.bind(lookup, library);
        } catch (IllegalStateException e) {
            return unavailable(e.getMessage());
        } catch (IllegalCallerException e) {
            return unavailable("native access is disabled: run java with --enable-native-access=ALL-UNNAMED");
        }
        int version;
        try {
            version = nccl.version();
        } catch (NcclException e) {
            return unavailable(e.getMessage());
        }
        if (version < MINIMUM_VERSION) {
            return new NcclProbe(Optional.empty(), library + " is NCCL " + Nccl.versionText(version) + "; Tramontane needs "
                    + Nccl.versionText(MINIMUM_VERSION) + " or later", version);
        }
        return new NcclProbe(Optional.of(nccl), "NCCL " + Nccl.versionText(version) + " from " + library, version);
    }

    private static NcclProbe unavailable(String reason) {
        return new NcclProbe(Optional.empty(), reason, 0);
    }
}
