"""What a learner reads in an executed notebook cell: its streams and the
text form of its displays and results, in order."""


def cell_text(cell):
    out = []
    for o in cell.outputs:
        if o.output_type == "stream":
            out.append(o.text)
        elif "data" in o:
            out.append(o.data.get("text/plain", ""))
    return "".join(out)
