import FuzzSupport
import Foundation
import LSR

// Reads arbitrary bytes as a dense matrix (.npy or .fvecs: the reader decides by content), row
// by row. Checks: every row it returns is finite and of the header's dimension, and a .npy file
// read to the end has exactly the rows its header declares. Throwing is fine; crashing, hanging
// or reading memory it should not is the finding.
let scratch = ScratchDirectory()
runFuzzer { bytes in
    let path = scratch.write("matrix.npy", bytes)
    guard let reader = try? DenseMatrixReader(path: path) else { return }
    precondition(reader.dimension >= 1 && reader.dimension <= DenseMatrixReader.maximumDimension)
    let row = UnsafeMutableBufferPointer<Float>.allocate(capacity: reader.dimension)
    defer { row.deallocate() }
    do {
        while try reader.next(into: row) {
            precondition(row.allSatisfy(\.isFinite))
        }
        if let declared = reader.declaredRows { precondition(reader.rowsRead == declared) }
    } catch {}
}
