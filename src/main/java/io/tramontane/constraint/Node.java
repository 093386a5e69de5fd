package io.tramontane.constraint;

/**
 * A compiled piece of the grammar (a schema's object, a string, a tool-call name choice, ...). Nodes are
 * immutable and compared by identity; a node makes the frame that starts matching it.
 */
interface Node {
    Frame start();
}
