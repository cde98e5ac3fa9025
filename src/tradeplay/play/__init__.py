"""The Play file: schema, expression language, compilation, validation errors."""
