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
