import CLSRKernels
import LSRFormats
import LSRVectors

extension BlockingContext {
    /// Prunes, blocks and summarizes inverted list `t`, whose complete postings (ascending
    /// documents) are `documents` and `values`.
    /// - Complexity: O(L · c · h) for a list of L kept postings, c centroids per document
    ///   component (all C centroids, eight at a time, for components a quarter of them have)
    ///   and h = docCut, plus O(block nnz) for the summaries.
    func blockList(_ t: Int, documents: UnsafeBufferPointer<UInt32>, values: UnsafeBufferPointer<Float>, workspace: BlockingWorkspace) -> BlockedList {
        var list = BlockedList()
        var members: [UInt32] = []
        var memberValues: [Float] = []
        plan.keep(values, into: &workspace.kept, keys: &workspace.keys)
        for p in 0 ..< documents.count {
            if workspace.kept[p] {
                members.append(documents[p])
                memberValues.append(values[p])
            } else {
                list.tailDocuments.append(documents[p])
                list.tailValues.append(values[p])
            }
        }
        guard !members.isEmpty else { return list }

        let groups: [[Int]]
        switch configuration.blocking {
        case let .fixedSize(requested):
            let limit = IndexLayout.maximumBlocksPerList
            let size = max(requested, (members.count + limit - 1) / limit)
            groups = stride(from: 0, to: members.count, by: size).map { Array($0 ..< min($0 + size, members.count)) }
        case let .randomCentroids(fraction, minSize, _):
            var generator = SplitMix64(seed: configuration.seed ^ (UInt64(t) &* 0x9E37_79B9_7F4A_7C15))
            groups = cluster(members, fraction: fraction, minClusterSize: minSize, generator: &generator, workspace: workspace)
        }

        // Summaries block by block, then regrouped by component (blocks stay ascending within a
        // component because blocks are visited in order): a counting sort on the dense scratch.
        var summaryOffsets = [0]
        var summaryComponents: [UInt32] = []
        var summaryCodes: [UInt8] = []
        for group in groups {
            for i in group {
                list.blockDocuments.append(members[i])
                list.blockValues.append(memberValues[i])
            }
            list.blockSizes.append(group.count)
            let (components, codes, minimum, scale) = summarize(group.map { members[$0] }, workspace: workspace)
            list.blockMinimums.append(minimum)
            list.blockScales.append(scale)
            summaryComponents += components
            summaryCodes += codes
            summaryOffsets.append(summaryComponents.count)
        }
        var distinct: [UInt32] = []
        for c in summaryComponents {
            if workspace.componentCount[Int(c)] == 0 { distinct.append(c) }
            workspace.componentCount[Int(c)] += 1
        }
        distinct.sort()
        var cursor = 0
        for c in distinct {
            let count = Int(workspace.componentCount[Int(c)])
            list.summaryComponents.append(c)
            list.summaryEntryCounts.append(count)
            workspace.componentCount[Int(c)] = Int32(cursor)
            cursor += count
        }
        list.summaryBlocks = [UInt16](repeating: 0, count: cursor)
        list.summaryCodes = [UInt8](repeating: 0, count: cursor)
        for b in 0 ..< groups.count {
            for j in summaryOffsets[b] ..< summaryOffsets[b + 1] {
                let c = Int(summaryComponents[j])
                let position = Int(workspace.componentCount[c])
                list.summaryBlocks[position] = UInt16(b)
                list.summaryCodes[position] = summaryCodes[j]
                workspace.componentCount[c] += 1
            }
        }
        for c in distinct { workspace.componentCount[Int(c)] = 0 }
        return list
    }

    /// Seismic's random-centroid clustering of one list's documents.
    /// - Returns: groups of positions in `members`, each ascending; group order is centroid order.
    private func cluster(
        _ members: [UInt32], fraction: Double, minClusterSize: Int, generator: inout SplitMix64,
        workspace: BlockingWorkspace
    ) -> [[Int]] {
        let n = members.count
        let centroidCount = min(IndexLayout.maximumBlocksPerList, n, max(1, Int(fraction * Double(n))))
        guard centroidCount > 1 else { return [Array(0 ..< n)] }
        var positions = Array(0 ..< n)
        for i in 0 ..< centroidCount {
            positions.swapAt(i, Int.random(in: i ..< n, using: &generator))
        }
        let centroids = positions[0 ..< centroidCount].sorted().map { Int(members[$0]) }

        // An inverted index over the centroids' full vectors: component → (centroid, value).
        // A component that a quarter of the centroids or more have gets a full row (value k is
        // centroid k's, zero where it lacks the component; no centroid numbers), which the kernel
        // adds eight centroids at a time: adding v × 0 = +0 leaves every score as it was, so the
        // assignment is the one of the sparse entries.
        var touched: [UInt32] = []
        for d in centroids {
            for j in forward.offsets[d] ..< forward.offsets[d + 1] {
                let c = forward.component(j)
                if workspace.componentCount[c] == 0 { touched.append(UInt32(c)) }
                workspace.componentCount[c] += 1
            }
        }
        var entryStart = [Int](repeating: 0, count: touched.count + 1)
        for (i, c) in touched.enumerated() {
            let count = Int(workspace.componentCount[Int(c)])
            entryStart[i + 1] = entryStart[i] + (4 * count >= centroidCount ? centroidCount : count)
            workspace.componentCount[Int(c)] = Int32(i)  // now: the component's slot in `touched`
        }
        var fill = entryStart
        var entryCentroid = [Int32](repeating: 0, count: entryStart.last!)
        var entryValue = [Float](repeating: 0, count: entryStart.last!)
        for (k, d) in centroids.enumerated() {
            for j in forward.offsets[d] ..< forward.offsets[d + 1] {
                let slot = Int(workspace.componentCount[forward.component(j)])
                if entryStart[slot + 1] - entryStart[slot] == centroidCount {
                    entryValue[entryStart[slot] + k] = forward.value(j)
                } else {
                    entryCentroid[fill[slot]] = Int32(k)
                    entryValue[fill[slot]] = forward.value(j)
                    fill[slot] += 1
                }
            }
        }
        // From here on componentCount maps a component to its slot + 1 (0: no centroid has it).
        for (i, c) in touched.enumerated() { workspace.componentCount[Int(c)] = Int32(i + 1) }

        var scores = [Float](repeating: 0, count: centroidCount)
        gatherHeads(of: members, into: &workspace.heads)
        let heads = workspace.heads
        /// The allowed centroid with the largest dot product with member `i` (ties: lower
        /// index), scoring its head components first and all of them if the head meets no
        /// centroid.
        func bestCentroid(_ i: Int, allowed: [Bool]?) -> Int {
            /// The kernel on `count` entries; nil when no allowed centroid scores above 0.
            func assign(_ components: UnsafePointer<UInt32>, _ values: UnsafePointer<Float>, _ count: Int) -> Int? {
                func kernel(_ mask: UnsafePointer<Bool>?) -> Int32 {
                    lsr_best_centroid(
                        components, values, count, workspace.componentCount.baseAddress, entryStart, entryCentroid,
                        entryValue, &scores, centroidCount, mask)
                }
                let k = allowed.map { $0.withUnsafeBufferPointer { kernel($0.baseAddress) } } ?? kernel(nil)
                return k >= 0 ? Int(k) : nil
            }
            let start = heads.offsets[i], count = heads.offsets[i + 1] - start
            let head = heads.components.withUnsafeBufferPointer { components in
                heads.values.withUnsafeBufferPointer { values in assign(components.baseAddress! + start, values.baseAddress! + start, count) }
            }
            if let head { return head }
            // Rare (the head meets no centroid): the whole vector, decoded.
            let entries = forward.offsets[Int(members[i])] ..< forward.offsets[Int(members[i]) + 1]
            let components = entries.map { UInt32(forward.component($0)) }, values = entries.map { forward.value($0) }
            return assign(components, values, components.count) ?? (allowed?.firstIndex(of: true) ?? 0)
        }

        var assignment = members.indices.map { bestCentroid($0, allowed: nil) }
        if minClusterSize > 1 {
            var sizes = [Int](repeating: 0, count: centroidCount)
            for a in assignment { sizes[a] += 1 }
            let surviving = sizes.map { $0 >= minClusterSize }
            if !surviving.contains(true) {
                assignment = [Int](repeating: 0, count: n)
            } else if surviving.contains(false) {
                for i in 0 ..< n where !surviving[assignment[i]] {
                    assignment[i] = bestCentroid(i, allowed: surviving)
                }
            }
        }
        for c in touched { workspace.componentCount[Int(c)] = 0 }

        var groups = [[Int]](repeating: [], count: centroidCount)
        for (i, a) in assignment.enumerated() { groups[a].append(i) }
        return groups.filter { !$0.isEmpty }
    }

    /// The block summary: coordinate-wise maximum of the members, cut to `summaryEnergy` of its
    /// L1 mass (largest coordinates first, at most `maxSummaryEntries`), quantized to u8 codes: value ≈ minimum + code × scale.
    private func summarize(_ documents: [UInt32], workspace: BlockingWorkspace) -> (components: [UInt32], codes: [UInt8], minimum: Float, scale: Float) {
        // The coordinate-wise maximum, branch-free (weights are positive, so a zero maximum
        // marks a component not seen yet): every component is written to `touched`, and the
        // count advances only on a first sighting.
        let componentMaximum = workspace.componentMaximum
        var nonzeros = 0
        for d in documents { nonzeros += forward.offsets[Int(d) + 1] - forward.offsets[Int(d)] }
        if workspace.touched.count < nonzeros { workspace.touched = [UInt32](repeating: 0, count: nonzeros) }
        let touchedCount = workspace.touched.withUnsafeMutableBufferPointer { touched in
            forward.offsets.withUnsafeBufferPointer { offsets in
                var count = 0
                // The documents are scattered over the forward index: load the next one's
                // vector while this one is read.
                func prefetch(_ i: Int) {
                    if i < documents.count { forward.prefetch(Int(documents[i])) }
                }
                prefetch(0)
                prefetch(1)
                for (i, d) in documents.enumerated() {
                    prefetch(i + 2)
                    for j in offsets[Int(d)] ..< offsets[Int(d) + 1] {
                        let c = forward.component(j), v = forward.value(j), old = componentMaximum[c]
                        touched[count] = UInt32(c)
                        count += old == 0 ? 1 : 0
                        componentMaximum[c] = v > old ? v : old
                    }
                }
                return count
            }
        }
        // Largest values first (ties: lower component): keys of value bits (positive floats order
        // like their bits) over the inverted component.
        var keys = workspace.touched[0 ..< touchedCount].map { UInt64(componentMaximum[Int($0)].bitPattern) << 32 | UInt64(~$0) }
        for c in workspace.touched[0 ..< touchedCount] { componentMaximum[Int(c)] = 0 }
        var total: Float = 0
        for key in keys { total += Float(bitPattern: UInt32(key >> 32)) }
        // Only the largest maxSummaryEntries keys can be kept: select them first (linear), so
        // that a block holding a document with tens of thousands of nonzeros sorts few keys.
        if keys.count > configuration.maxSummaryEntries {
            keys.withUnsafeMutableBufferPointer { $0.moveLargestToFront(configuration.maxSummaryEntries) }
            keys.removeSubrange(configuration.maxSummaryEntries...)
        }
        // Keep the largest keys until their mass reaches the target, summed largest first. Only
        // the head is sorted: a selection finds how many keys that takes (plus a few, since the
        // Float sum may round below the Double one), and the rare shortfall sorts everything.
        let target = Float(configuration.summaryEnergy) * total
        let needed = keys.withUnsafeMutableBufferPointer {
            $0.moveHeaviestToFront(reaching: Double(target)) { Double(Float(bitPattern: UInt32($0 >> 32))) }
        }
        var candidates = min(keys.count, needed + 8)
        var keep = 0
        while true {
            keys.withUnsafeMutableBufferPointer {
                $0.moveLargestToFront(candidates)
                lsr_sort_u64($0.baseAddress, candidates)
            }
            keys[0 ..< candidates].reverse()
            var mass: Float = 0
            keep = 0
            while keep < candidates {
                mass += Float(bitPattern: UInt32(keys[keep] >> 32))
                keep += 1
                if mass >= target { break }
            }
            if mass >= target || candidates == keys.count { break }
            candidates = keys.count
        }
        // By component: keys of component over value bits.
        var byComponent = keys[0 ..< keep].map { key in UInt64(~UInt32(truncatingIfNeeded: key)) << 32 | key >> 32 }
        byComponent.withUnsafeMutableBufferPointer { lsr_sort_u64($0.baseAddress, $0.count) }
        let entries = byComponent.map { (component: UInt32($0 >> 32), value: Float(bitPattern: UInt32(truncatingIfNeeded: $0))) }
        let minimum = entries.map(\.value).min() ?? 0
        let maximum = entries.map(\.value).max() ?? 0
        let scale = (maximum - minimum) / 255
        let codes = entries.map { entry -> UInt8 in
            scale > 0 ? UInt8(min(255, max(0, ((entry.value - minimum) / scale).rounded()))) : 0
        }
        return (entries.map(\.component), codes, minimum, scale)
    }
}
