extension Change {
    /// The canonical change chunk for this change.
    package func encodeChunk() -> ChangeChunk {
        var encoder = ChangeEncoder()
        let hash = encoder.encode(self)
        let chunk = encoder.chunk
        var reader = ByteReader(chunk, range: 9..<chunk.count)
        _ = try? reader.readULEB()
        return ChangeChunk(verifiedBytes: chunk, hash: hash, bodyStart: reader.offset)
    }
}
