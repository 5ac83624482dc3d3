// DOMException (WebIDL §3.14.1): an Error with a name and, for the names WebIDL lists, its legacy
// numeric code. The guest's own APIs throw it (crypto, atob, abort); install_dom_exception.ts makes
// it a global for apps that name it.

/** The legacy codes of WebIDL's error names table (names without one have code 0). */
const CODES: Record<string, number> = {
  IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4, InvalidCharacterError: 5, NoModificationAllowedError: 7,
  NotFoundError: 8, NotSupportedError: 9, InvalidStateError: 11, SyntaxError: 12, InvalidModificationError: 13,
  NamespaceError: 14, InvalidAccessError: 15, TypeMismatchError: 17, SecurityError: 18, NetworkError: 19, AbortError: 20,
  URLMismatchError: 21, QuotaExceededError: 22, TimeoutError: 23, InvalidNodeTypeError: 24, DataCloneError: 25,
};

export class DOMException extends Error {
  private readonly _name: string;

  constructor(message = '', name = 'Error') {
    super(String(message));
    this._name = String(name);
  }

  override get name(): string {
    return this._name;
  }

  get code(): number {
    return CODES[this._name] ?? 0;
  }

  get [Symbol.toStringTag](): string {
    return 'DOMException';
  }
}

/** The legacy constants (DOMException.INDEX_SIZE_ERR = 1, ...), on the class and its prototype. */
const CONSTANTS = ['INDEX_SIZE_ERR', 'DOMSTRING_SIZE_ERR', 'HIERARCHY_REQUEST_ERR', 'WRONG_DOCUMENT_ERR', 'INVALID_CHARACTER_ERR',
  'NO_DATA_ALLOWED_ERR', 'NO_MODIFICATION_ALLOWED_ERR', 'NOT_FOUND_ERR', 'NOT_SUPPORTED_ERR', 'INUSE_ATTRIBUTE_ERR', 'INVALID_STATE_ERR',
  'SYNTAX_ERR', 'INVALID_MODIFICATION_ERR', 'NAMESPACE_ERR', 'INVALID_ACCESS_ERR', 'VALIDATION_ERR', 'TYPE_MISMATCH_ERR', 'SECURITY_ERR',
  'NETWORK_ERR', 'ABORT_ERR', 'URL_MISMATCH_ERR', 'QUOTA_EXCEEDED_ERR', 'TIMEOUT_ERR', 'INVALID_NODE_TYPE_ERR', 'DATA_CLONE_ERR'];
CONSTANTS.forEach((constant, i) => {
  for (const target of [DOMException, DOMException.prototype]) Object.defineProperty(target, constant, { value: i + 1, enumerable: true });
});
