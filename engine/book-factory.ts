/** Chooses a book implementation by name. */
import type { BookKind, OrderBook } from './book.ts';
import { FastBook } from './book-fast.ts';
import { ReferenceBook } from './book-reference.ts';

export function createBook(kind: BookKind): OrderBook {
  return kind === 'reference' ? new ReferenceBook() : new FastBook();
}
