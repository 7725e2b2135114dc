/// The raw bytes of every applied change, packed into large segments so that a history of
/// hundreds of thousands of changes costs a few allocations, not one per change.
struct ChangeStore: Sendable {
    private static let segmentSize = 1 << 22
    private var segments: [[UInt8]] = []
    private var locations: [(segment: Int32, offset: Int32, length: Int32)] = []

    var count: Int { locations.count }

    mutating func append(_ bytes: [UInt8]) {
        if segments.isEmpty || segments[segments.count - 1].count + bytes.count > Self.segmentSize {
            var segment: [UInt8] = []
            segment.reserveCapacity(max(Self.segmentSize, bytes.count))
            segments.append(segment)
        }
        let segment = segments.count - 1
        let offset = segments[segment].count
        segments[segment].append(contentsOf: bytes)
        locations.append((Int32(segment), Int32(offset), Int32(bytes.count)))
    }

    func bytes(at index: Int) -> ArraySlice<UInt8> {
        let location = locations[index]
        let start = Int(location.offset)
        return segments[Int(location.segment)][start..<(start + Int(location.length))]
    }

    /// The segment holding a change and the change's range in it: lets a reader work on the
    /// stored bytes without copying them.
    func location(of index: Int) -> (segment: [UInt8], range: Range<Int>) {
        let location = locations[index]
        let start = Int(location.offset)
        return (segments[Int(location.segment)], start..<(start + Int(location.length)))
    }
}
