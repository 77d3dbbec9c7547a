/// The version of lsr.
public let lsrVersion = "0.1.0"
