"""Forms check shape (ranges, choices, required fields); workflow rules live in transitions."""
from __future__ import annotations

from django import forms

from workflow.models import Inspection, Stage


class InspectionForm(forms.ModelForm):
    class Meta:
        model = Inspection
        fields = list(Inspection.WORK_FIELDS)
        widgets = {
            "repairs": forms.Textarea(attrs={"rows": 3}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "shrinkage_pct": "measured with a shrinkage gauge, 0-10 %",
            "vinegar_level": "A-D strip: 0 (blue, none) to 3 (yellow, severe)",
        }

    # The browser's number inputs get the same bounds the model checks.
    BOUNDS = {
        "vinegar_level": {"min": 0, "max": 3, "step": 1},
        "shrinkage_pct": {"min": 0, "max": 10, "step": "0.01"},
        "tears": {"min": 0, "step": 1},
        "splice_count": {"min": 0, "step": 1},
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, attrs in self.BOUNDS.items():
            self.fields[name].widget.attrs.update(attrs)


class PhotoForm(forms.Form):
    photo = forms.FileField(help_text="JPEG, PNG, TIFF or WebP")
    caption = forms.CharField(max_length=200, required=False)


class NotesForm(forms.Form):
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False)


class SignOffForm(forms.Form):
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class WithdrawForm(forms.Form):
    reason = forms.CharField(required=False, max_length=500)


class ReturnForm(forms.Form):
    to_stage = forms.ChoiceField(choices=Stage.choices, label="Return to")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=4000,
                             error_messages={"required": "say why the work is returned"})

    def __init__(self, *args, stage: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if stage:
            upto = Stage(stage).index
            self.fields["to_stage"].choices = [
                (s.value, s.label) for s in Stage.chain() if s.index <= upto
            ]
            self.fields["to_stage"].initial = stage

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("say why the work is returned")
        return reason


class ScanSettingsForm(forms.ModelForm):
    class Meta:
        from workflow.models import ScanRecord

        model = ScanRecord
        fields = list(ScanRecord.WORK_FIELDS)
        widgets = {"settings_notes": forms.Textarea(attrs={"rows": 2})}
        help_texts = {"scanner": "make, model and serial, e.g. Scanity HDR #0141"}


class ImportScanForm(forms.Form):
    """The source folder is chosen from those under INGEST_ROOTS, never typed blind."""

    folder = forms.ChoiceField(label="Scan folder")
    pattern = forms.CharField(
        required=False, max_length=300, label="Sequence (only if the folder holds several)",
        help_text="e.g. reel.#######.dpx or reel.*.dpx")

    def __init__(self, *args, folders: list[tuple[str, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["folder"].choices = [("", "— choose a folder —"), *folders]


class RepairRecipeForm(forms.Form):
    """The recipe as JSON (shape only here; ops, parameters and models are checked by the
    transition, which names the step)."""

    recipe = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false", "class": "code"}),
        help_text='a JSON list of steps, e.g. [{"op": "dust"}, {"op": "denoise", '
                  '"strength": 0.4}]; every parameter is optional')
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def clean_recipe(self) -> list:
        import json

        text = self.cleaned_data["recipe"]
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(f"not valid JSON: {exc}") from None
        if not isinstance(value, list) or not value:
            raise forms.ValidationError('expected a non-empty JSON list of steps '
                                        '[{"op": NAME, ...}, ...]')
        return value


class RepairPreviewForm(forms.Form):
    first = forms.IntegerField(label="from frame", min_value=0)
    last = forms.IntegerField(label="to frame", min_value=0)

    def clean(self):
        data = super().clean()
        if data.get("first") is not None and data.get("last") is not None and \
                data["last"] < data["first"]:
            self.add_error("last", "the last frame comes after the first")
        return data


def _cdl_fields(form: forms.Form, prefix: str = "") -> None:
    """Slope, offset and power per R, G, B, and saturation: ten numbers."""
    for name, initial in (("slope", 1.0), ("offset", 0.0), ("power", 1.0)):
        for channel in "rgb":
            form.fields[f"{prefix}{name}_{channel}"] = forms.FloatField(
                label=f"{name} {channel.upper()}", initial=initial,
                min_value=None if name == "offset" else 0.0,
                widget=forms.NumberInput(attrs={"step": "any"}))
    form.fields[f"{prefix}saturation"] = forms.FloatField(
        label="saturation", initial=1.0, min_value=0.0,
        widget=forms.NumberInput(attrs={"step": "any"}))


def cdl_initial(cdl: dict | None, prefix: str = "") -> dict:
    if not cdl:
        return {}
    out = {f"{prefix}{name}_{c}": cdl[name][i] for name in ("slope", "offset", "power")
           for i, c in enumerate("rgb")}
    out[f"{prefix}saturation"] = cdl["saturation"]
    return out


def cdl_value(data: dict, prefix: str = "") -> dict:
    return {name: [data[f"{prefix}{name}_{c}"] for c in "rgb"]
            for name in ("slope", "offset", "power")} | {"saturation": data[f"{prefix}saturation"]}


class GradeBaseForm(forms.Form):
    """The reel's base grade: a CDL (on or off), the LUT's interpolation, the scan's transfer
    and the deliverable's space. Ranges are checked again by the transition."""

    use_cdl = forms.BooleanField(label="apply a base CDL", required=False, initial=True)
    interpolation = forms.ChoiceField(choices=[("tetrahedral", "tetrahedral"),
                                               ("linear", "linear (trilinear)")])
    in_transfer = forms.ChoiceField(label="scan transfer (decode)", required=False, choices=[
        ("", "— no conversion —"), ("cineon", "Cineon printing density"), ("adx10", "ADX10"),
        ("linear", "linear"), ("rec709", "Rec. 709")])
    out_space = forms.ChoiceField(label="deliverable space (encode)", required=False, choices=[
        ("", "— no conversion —"), ("rec709", "Rec. 709"), ("p3-d65", "P3-D65"),
        ("rec2020", "Rec. 2020"), ("aces2065-1", "ACES2065-1")])
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _cdl_fields(self)

    def base(self) -> dict:
        data = self.cleaned_data
        return {"cdl": cdl_value(data) if data["use_cdl"] else None,
                "interpolation": data["interpolation"], "in_transfer": data["in_transfer"],
                "out_space": data["out_space"]}


class ShotGradeForm(forms.Form):
    use_base = forms.BooleanField(label="use the base CDL", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _cdl_fields(self)


class CopyGradeForm(forms.Form):
    to = forms.CharField(label="copy this shot's CDL to shots", max_length=2000,
                         help_text="shot numbers, e.g. 2, 3, 7-9")

    def clean_to(self) -> list[int]:
        numbers: list[int] = []
        for part in self.cleaned_data["to"].replace(" ", "").split(","):
            if not part:
                continue
            try:
                a, _, b = part.partition("-")
                first, last = int(a), int(b or a)
            except ValueError:
                raise forms.ValidationError(f"{part!r} is not a shot number or range") from None
            if last < first or last - first > 10000:
                raise forms.ValidationError(f"{part!r}: a range is first-last")
            numbers.extend(range(first, last + 1))
        if not numbers:
            raise forms.ValidationError("name at least one shot")
        return numbers


class GradingFileForm(forms.Form):
    file = forms.FileField()
