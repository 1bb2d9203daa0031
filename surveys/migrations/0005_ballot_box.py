"""One sealed box row per campaign (issue 12, performance): the ciphertexts and the used-code
digests of a campaign move from one row per ballot / a `used` flag per code into a single
`BallotBox` row, so a vote writes one row version instead of rewriting every ballot and code
row of the campaign (docs/ballot-anonymity.md, "Cost of a vote")."""

import django.db.models.deletion
from django.db import migrations, models


def ballots_into_boxes(apps, schema_editor):
    """Every campaign with an open ballot box and no settlement gets its box: its ciphertexts in
    a fresh random order, the digests of its used codes sorted. Settled campaigns have no
    ballot rows left (settlement deleted them)."""
    import secrets

    Campaign = apps.get_model("surveys", "Campaign")
    Ballot = apps.get_model("surveys", "Ballot")
    VotingCode = apps.get_model("surveys", "VotingCode")
    BallotBox = apps.get_model("surveys", "BallotBox")
    rng = secrets.SystemRandom()
    sealed = Campaign.objects.filter(public_key__isnull=False, closed_at__isnull=True)
    for campaign in sealed:
        ciphertexts = [
            bytes(c)
            for c in Ballot.objects.filter(campaign=campaign).values_list("ciphertext", flat=True)
        ]
        rng.shuffle(ciphertexts)
        used = sorted(
            bytes.fromhex(h)
            for h in VotingCode.objects.filter(campaign=campaign, used=True).values_list(
                "code_hash", flat=True
            )
        )
        BallotBox.objects.create(
            campaign=campaign, sealed=b"".join(ciphertexts), used=b"".join(used)
        )


def boxes_into_ballots(apps, schema_editor):
    import uuid

    Ballot = apps.get_model("surveys", "Ballot")
    VotingCode = apps.get_model("surveys", "VotingCode")
    BallotBox = apps.get_model("surveys", "BallotBox")
    length = 2096  # surveys.sealing.CIPHERTEXT_LENGTH when this migration was written
    for box in BallotBox.objects.all():
        data = bytes(box.sealed)
        Ballot.objects.bulk_create(
            Ballot(id=uuid.uuid4(), campaign_id=box.campaign_id, ciphertext=data[i : i + length])
            for i in range(0, len(data), length)
        )
        used = bytes(box.used)
        VotingCode.objects.filter(
            code_hash__in=[used[i : i + 32].hex() for i in range(0, len(used), 32)]
        ).update(used=True)


def box_storage_external(apps, schema_editor):
    """PostgreSQL: the box's two values out of line and uncompressed (random bytes do not
    compress; pglz would only spend time trying)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE surveys_ballotbox ALTER COLUMN sealed SET STORAGE EXTERNAL, "
            "ALTER COLUMN used SET STORAGE EXTERNAL"
        )


class Migration(migrations.Migration):

    dependencies = [
        ("surveys", "0004_roster_reelection_result"),
    ]

    operations = [
        migrations.CreateModel(
            name="BallotBox",
            fields=[
                (
                    "campaign",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="box",
                        serialize=False,
                        to="surveys.campaign",
                        verbose_name="测评",
                    ),
                ),
                ("sealed", models.BinaryField(default=bytes, verbose_name="密文")),
                ("used", models.BinaryField(default=bytes, verbose_name="已使用投票码摘要")),
            ],
            options={
                "verbose_name": "票箱",
                "verbose_name_plural": "票箱",
            },
        ),
        migrations.RunPython(box_storage_external, migrations.RunPython.noop),
        migrations.RunPython(ballots_into_boxes, boxes_into_ballots),
        migrations.RemoveIndex(
            model_name="votingcode",
            name="survey_code_turnout_idx",
        ),
        migrations.RemoveField(
            model_name="votingcode",
            name="used",
        ),
        migrations.DeleteModel(
            name="Ballot",
        ),
    ]
