package io.tramontane.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/** Native function pointers for the fake libraries of the binding tests: a Java method, or a constant result. */
public final class UpcallStubs {
    private UpcallStubs() {}

    /**
     * A stub with {@code descriptor} that calls {@code fake}'s method {@code name} (found through {@code lookup}, which
     * must see it), or returns {@code unimplemented} where the fake has no such method.
     */
    public static MemorySegment stub(MethodHandles.Lookup lookup, Object fake, String name, FunctionDescriptor descriptor,
                                     int unimplemented, Arena arena) {
        MethodType type = descriptor.toMethodType();
        MethodHandle target;
        try {
            target = lookup.findVirtual(fake.getClass(), name, type).bindTo(fake);
        } catch (NoSuchMethodException | IllegalAccessException e) {
            target = MethodHandles.dropArguments(MethodHandles.constant(int.class, unimplemented), 0, type.parameterList());
        }
        return Linker.nativeLinker().upcallStub(target, descriptor, arena);
    }
}
