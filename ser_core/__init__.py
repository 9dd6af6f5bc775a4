"""SER: the embedded Special Education Reporting core, reached only through roles.gate."""
