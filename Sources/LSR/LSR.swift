// The umbrella module: `import LSR` gives the whole public API of lsr.
@_exported import LSREvaluation
@_exported import LSRFormats
@_exported import LSRIndexBuilder
@_exported import LSRSearch
@_exported import LSRSweep
@_exported import LSRText
@_exported import LSRVectors
