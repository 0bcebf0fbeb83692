#!/usr/bin/python3
"""Parses a message with Python's email package (default policy) and prints what a mail client
would see, one 'key<TAB>hex of UTF-8 value' line each: headers as decoded, the part structure,
each part's type, disposition, file name, Content-ID and decoded content, the parser's defects,
and raw-line facts (longest line, bare CR or LF, lines starting with '.')."""
import email
import email.policy
import sys


def main():
    data = open(sys.argv[1], "rb").read()
    msg = email.message_from_bytes(data, policy=email.policy.default)
    out = []

    def emit(key, value):
        if isinstance(value, str):
            value = value.encode("utf-8", "surrogateescape")
        out.append(key + "\t" + value.hex())

    for name in ["Date", "From", "Reply-To", "To", "Subject", "Message-ID", "MIME-Version",
                 "List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "Feedback-ID", "X-Lbmail-Id"]:
        if name in msg:
            emit("header." + name, str(msg[name]))
    emit("header_count", str(len(msg.keys())))
    for name in ["From", "Reply-To"]:
        if name in msg and msg[name].addresses:
            emit(f"header.{name}.display", msg[name].addresses[0].display_name)

    def structure(part):
        if part.is_multipart():
            return part.get_content_type() + "(" + ",".join(structure(p) for p in part.iter_parts()) + ")"
        return part.get_content_type()

    emit("structure", structure(msg))
    defects = [type(d).__name__ for d in msg.defects]
    leaves = [p for p in msg.walk() if not p.is_multipart()]
    for i, part in enumerate(leaves):
        defects += [type(d).__name__ for d in part.defects]
        emit(f"part.{i}.type", part.get_content_type())
        emit(f"part.{i}.disposition", part.get_content_disposition() or "")
        emit(f"part.{i}.filename", part.get_filename() or "")
        emit(f"part.{i}.cid", str(part["Content-ID"] or ""))
        emit(f"part.{i}.cte", str(part["Content-Transfer-Encoding"] or ""))
        if part.get_content_maintype() == "text":
            # Line ends as a client shows them: the wire form is CRLF.
            emit(f"part.{i}.content", part.get_content().replace("\r\n", "\n"))
        else:
            emit(f"part.{i}.content", part.get_payload(decode=True))
    emit("parts", str(len(leaves)))
    emit("defects", ",".join(defects))
    lines = data.split(b"\r\n")
    emit("max_line", str(max(len(line) for line in lines)))
    # RFC 2047 section 2: a line holding an encoded word is at most 76 characters.
    emit("max_encoded_word_line", str(max([len(line) for line in lines if b"=?utf-8?" in line] or [0])))
    rest = data.replace(b"\r\n", b"")
    emit("bare_newlines", str(rest.count(b"\n") + rest.count(b"\r")))
    emit("dot_lines", str(sum(1 for line in lines if line.startswith(b"."))))
    emit("ends_crlf", "1" if data.endswith(b"\r\n") else "0")
    print("\n".join(out))


if __name__ == "__main__":
    main()
