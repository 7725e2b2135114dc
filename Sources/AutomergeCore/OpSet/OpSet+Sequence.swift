extension OpSet {
    /// Places a new element in its sequence by the RGA rule of the reference: start right after
    /// the reference element and skip every element whose id is greater than the new one's
    /// (Lamport order). Descendants of a skipped element have even greater ids, so one forward
    /// scan suffices.
    mutating func rgaInsert(object: Int32, element: Int32, after reference: Int32) {
        var chunk: Int32
        var position: Int
        if reference < 0 {
            chunk = objects[Int(object)].sequence.first
            position = 0
        } else {
            chunk = ops[Int(reference)].slot
            guard chunk >= 0,
                let found = objects[Int(object)].sequence.chunks[Int(chunk)].elements.firstIndex(of: reference)
            else {
                appendElement(object: object, element: element)
                return
            }
            position = found + 1
        }
        while chunk >= 0 {
            let count = objects[Int(object)].sequence.chunks[Int(chunk)].elements.count
            while position < count {
                let candidate = objects[Int(object)].sequence.chunks[Int(chunk)].elements[position]
                if lamportLess(candidate, element) {
                    insertElement(object: object, element: element, chunk: chunk, position: position)
                    return
                }
                position += 1
            }
            let next = objects[Int(object)].sequence.chunks[Int(chunk)].next
            if next < 0 {
                insertElement(object: object, element: element, chunk: chunk, position: count)
                return
            }
            chunk = next
            position = 0
        }
        appendElement(object: object, element: element)
    }

    /// Appends an element at the end (document order is RGA order, so loading a document only
    /// appends).
    mutating func appendElement(object: Int32, element: Int32) {
        let last = objects[Int(object)].sequence.last
        if last < 0 {
            objects[Int(object)].sequence.chunks.append(.init(elements: [element], next: -1, visible: 0))
            let id = Int32(objects[Int(object)].sequence.chunks.count - 1)
            objects[Int(object)].sequence.first = id
            objects[Int(object)].sequence.last = id
            ops[Int(element)].slot = id
            return
        }
        if objects[Int(object)].sequence.chunks[Int(last)].elements.count >= SequenceElements.chunkCapacity {
            objects[Int(object)].sequence.chunks.append(.init(elements: [element], next: -1, visible: 0))
            let id = Int32(objects[Int(object)].sequence.chunks.count - 1)
            objects[Int(object)].sequence.chunks[Int(last)].next = id
            objects[Int(object)].sequence.last = id
            ops[Int(element)].slot = id
            return
        }
        objects[Int(object)].sequence.chunks[Int(last)].elements.append(element)
        ops[Int(element)].slot = last
    }

    private mutating func insertElement(object: Int32, element: Int32, chunk: Int32, position: Int) {
        objects[Int(object)].sequence.chunks[Int(chunk)].elements.insert(element, at: position)
        ops[Int(element)].slot = chunk
        guard objects[Int(object)].sequence.chunks[Int(chunk)].elements.count > SequenceElements.chunkCapacity else { return }
        // Split the chunk in two; the moved elements learn their new chunk.
        let old = objects[Int(object)].sequence.chunks[Int(chunk)]
        let half = old.elements.count / 2
        let moved = Array(old.elements[half...])
        let newId = Int32(objects[Int(object)].sequence.chunks.count)
        var movedVisible: Int32 = 0
        for element in moved {
            ops[Int(element)].slot = newId
            if ops[Int(element)].elementVisible { movedVisible += 1 }
        }
        objects[Int(object)].sequence.chunks.append(.init(elements: moved, next: old.next, visible: movedVisible))
        objects[Int(object)].sequence.chunks[Int(chunk)].elements.removeSubrange(half...)
        objects[Int(object)].sequence.chunks[Int(chunk)].next = newId
        objects[Int(object)].sequence.chunks[Int(chunk)].visible -= movedVisible
        if objects[Int(object)].sequence.last == chunk { objects[Int(object)].sequence.last = newId }
    }

    /// Recomputes whether an element is visible now and keeps its chunk's count in step.
    mutating func refreshElement(_ element: Int32) {
        let visible = elementIsVisible(element, clock: nil)
        let record = ops[Int(element)]
        guard visible != record.elementVisible else { return }
        ops[Int(element)].elementVisible = visible
        let object = Int(record.object)
        if record.slot >= 0 { objects[object].sequence.chunks[Int(record.slot)].visible += visible ? 1 : -1 }
    }

    /// The element of a sequence op: itself for an insert, its target otherwise.
    @inline(__always) func element(of op: Int32) -> Int32 {
        ops[Int(op)].insert ? op : ops[Int(op)].key
    }

    /// The element at a visible index of the current state, found by skipping whole chunks.
    func element(object: Int32, visibleIndex: Int) -> Int32? {
        var remaining = visibleIndex
        var chunk = objects[Int(object)].sequence.first
        while chunk >= 0 {
            let current = objects[Int(object)].sequence.chunks[Int(chunk)]
            if remaining < Int(current.visible) {
                for element in current.elements where ops[Int(element)].elementVisible {
                    if remaining == 0 { return element }
                    remaining -= 1
                }
                return nil
            }
            remaining -= Int(current.visible)
            chunk = current.next
        }
        return nil
    }

    /// The number of visible elements now.
    func visibleLength(object: Int32) -> Int {
        var total = 0
        var chunk = objects[Int(object)].sequence.first
        while chunk >= 0 {
            total += Int(objects[Int(object)].sequence.chunks[Int(chunk)].visible)
            chunk = objects[Int(object)].sequence.chunks[Int(chunk)].next
        }
        return total
    }
}
