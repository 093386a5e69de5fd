package io.tramontane.bench.constraint;

/** The schema both constraint benchmarks use: at least 100 persons, so 512 tokens never complete it. */
final class ConstrainedDecodeBenchmarkSchema {
    static final String TEXT = """
            {"type": "array", "minItems": 100, "items": {"type": "object", "required": ["name", "age", "tags"], "properties": {
              "name": {"type": "string"}, "age": {"type": "integer"}, "score": {"type": "number"},
              "nickname": {"type": ["string", "null"]},
              "tags": {"type": "array", "items": {"enum": ["red", "green", "blue"]}},
              "address": {"type": "object", "properties": {"city": {"type": "string"}, "zip": {"type": "string"}}}}}}""";

    private ConstrainedDecodeBenchmarkSchema() {}
}
