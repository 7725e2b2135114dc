/// The raw bytes of applied changes, packed into large segments so that a history of hundreds of
/// thousands of changes costs a few allocations, not one per change.
///
/// A change may also be recorded without its bytes (`appendAbsent`): one that lives inside a stored
/// document chunk, which a server rebuilds from that chunk when a peer needs it.
///
/// A large change (at least `ownSegmentSize`) is kept as a segment of its own: the array it arrived
/// in, shared rather than copied, and with no spare capacity; `release` can give it back once it is
/// stored elsewhere.
struct ChangeStore: Sendable {
    private static let segmentSize = 1 << 22
    /// Changes at least this large get a segment of their own.
    static let ownSegmentSize = 1 << 16
    private var segments: [[UInt8]] = []
    /// Per change: segment (-1 when the bytes are not kept), offset and length.
    private var locations: [(segment: Int32, offset: Int32, length: Int32)] = []
    /// The segment small changes are appended to (-1 before the first): large changes' own segments
    /// may come after it.
    private var openSegment = -1

    var count: Int { locations.count }

    mutating func append(_ bytes: [UInt8]) {
        if bytes.count >= Self.ownSegmentSize {
            // Shares the caller's buffer (a chunk parsed from a message or a file): no copy, no spare capacity.
            locations.append((Int32(segments.count), 0, Int32(bytes.count)))
            segments.append(bytes)
            return
        }
        makeRoom(bytes.count)
        let offset = segments[openSegment].count
        segments[openSegment].append(contentsOf: bytes)
        locations.append((Int32(openSegment), Int32(offset), Int32(bytes.count)))
    }

    /// `append`, from memory the caller reuses (the rebuild's chunk buffer): the bytes are copied.
    mutating func append(copying bytes: UnsafeRawBufferPointer) {
        guard bytes.count < Self.ownSegmentSize else { return append(Array(bytes)) }
        makeRoom(bytes.count)
        let offset = segments[openSegment].count
        segments[openSegment].append(contentsOf: bytes)
        locations.append((Int32(openSegment), Int32(offset), Int32(bytes.count)))
    }

    /// Opens a new segment unless the open one has room for `count` more bytes.
    private mutating func makeRoom(_ count: Int) {
        guard openSegment < 0 || segments[openSegment].count + count > Self.segmentSize else { return }
        var segment: [UInt8] = []
        // A small first segment: most documents are small, and a large one grows by segments.
        segment.reserveCapacity(max(openSegment < 0 ? 1 << 16 : Self.segmentSize, count))
        openSegment = segments.count
        segments.append(segment)
    }

    mutating func reserveCapacity(_ capacity: Int) { locations.reserveCapacity(capacity) }

    /// Records a change whose bytes are not kept.
    mutating func appendAbsent() { locations.append((-1, 0, 0)) }

    /// Lets go of a change's bytes if it has a segment of its own (a large change); returns the bytes
    /// released. Small changes share segments and stay.
    @discardableResult
    mutating func release(_ index: Int) -> Int {
        let location = locations[index]
        guard location.segment >= 0, Int(location.length) >= Self.ownSegmentSize else { return 0 }
        let segment = Int(location.segment)
        let released = segments[segment].capacity
        segments[segment] = []
        locations[index] = (-1, 0, 0)
        return released
    }

    func isResident(_ index: Int) -> Bool { locations[index].segment >= 0 }

    func bytes(at index: Int) -> ArraySlice<UInt8>? {
        let location = locations[index]
        guard location.segment >= 0 else { return nil }
        let start = Int(location.offset)
        return segments[Int(location.segment)][start..<(start + Int(location.length))]
    }

    /// The segment holding a change and the change's range in it: lets a reader work on the
    /// stored bytes without copying them. Empty for a change whose bytes are not kept.
    func location(of index: Int) -> (segment: [UInt8], range: Range<Int>) {
        let location = locations[index]
        guard location.segment >= 0 else { return ([], 0..<0) }
        let start = Int(location.offset)
        return (segments[Int(location.segment)], start..<(start + Int(location.length)))
    }

    /// Bytes of the location table.
    var tableBytes: Int { locations.capacity * MemoryLayout<(Int32, Int32, Int32)>.stride }

    /// Bytes reserved for change data (the segments' capacity).
    var segmentBytes: Int { segments.reduce(0) { $0 + $1.capacity } }
}
