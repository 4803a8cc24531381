"""The live runtime: site servers, gateways and device emulators over gRPC (docs/live.md)."""
