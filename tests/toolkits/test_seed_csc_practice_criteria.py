"""Seed 001 (practice grading criteria for children's social care) is all in its toolkit.

The tables below were written by reading ``seeds/001_63ace02ca8385ae6.txt``
cell by cell, not from the definition. The seed is a grid "Criteria |
O: Outstanding | G: Good | R: Requires Improvement | I: Inadequate" per area;
its Good column has one text per criterion, while its Outstanding, Requires
Improvement and Inadequate columns describe the whole area (they stand beside
the first rows only and run on across rows and page breaks), so they are read
as the area's judgement descriptors.

Texts are compared after collapsing whitespace. Extraction noise is fixed as
the definition fixes it: HTML tags (<p>, <u>) dropped, and cells broken by a
page break joined again (marked "page break").
"""

from __future__ import annotations

import pytest

from agencies.applicability import Participant, applicable_sections
from agencies.kinds import AGENCY_KIND_CODES
from tests.toolkits.seed_texts import collapse, definition_file, load_toolkit, section_of, section_texts
from toolkits.checks import check_toolkit
from toolkits.model import Toolkit

FILE = definition_file("csc-practice-criteria")

CIN_CP = "planning-review-cin-cp"
LAC = "planning-review-looked-after"

# (section id, the area's heading as the seed prints it).
SEED_AREAS: tuple[tuple[str, str], ...] = (
    ("strategy-s47", "1: STRATEGY DISCUSSION/ SECTION 47 INVESTIGATION"),
    ("case-recording", "2: CASE RECORDING"),
    ("supervision-oversight", "3: SUPERVISION/MANAGEMENT OVERSIGHT"),
    ("lived-experience", "4. CHILD’S LIVED EXPERIENCE"),
    ("assessment", "5. ASSESSMENT"),
    (CIN_CP, "6. IMPACT ANALYSIS – PLANNING AND REVIEW – Children in Need and on a Child Protection Plan"),
    # Seed: "<u>Children who are looked after</u>".
    (LAC, "6. IMPACT ANALYSIS – PLANNING AND REVIEW – Children who are looked after"),
)

# Every row of the Good column, in the seed's order: (section id, the
# criterion it belongs to, or None for a continuation row, the Good text).
# Where the extraction shows a criterion name beside a text about something
# else, the name is given here to the text it names ("realigned").
SEED_GOOD: tuple[tuple[str, str | None, str], ...] = (
    # 1: STRATEGY DISCUSSION/ SECTION 47 INVESTIGATION (the "General" row is
    # in SEED_AREA_DESCRIPTORS)
    (
        "strategy-s47",
        "Strategy meetings/ discussions",
        "A strategy meeting is considered and takes place rather than a telephone strategy discussion; if a strategy "
        "discussion (rather than a meeting) takes place there is a clear rationale for doing so",
    ),
    (
        "strategy-s47",
        "Strategy mtg/ discussion - Multi-agency contribution",
        "Strategy meetings are attended and contributed by key participants and are effective forums for timely "
        "information sharing, planning and risk-based decision making",
    ),
    (
        "strategy-s47",
        "Strategy mtg/ discussion - Decision making and recording",
        "Decision-making is undertaken by suitably qualified and experienced manager, with decisions, all actions and "
        "engagement with the family and other professionals clearly recorded",
    ),
    ("strategy-s47", None, "The strategy meeting informs the need for the S47 enquiry clearly"),
    (
        "strategy-s47",
        "S47 – information sharing and multi-agency contribution",
        "Information - sharing between agencies and professionals is timely, specific and effective and takes full "
        "account of the requirements set out in legislation and guidance about the need to obtain parental consent "
        "for enquiries to be made except where in seeking that consent a child is likely to suffer significant harm "
        "or further harm",
    ),
    (
        "strategy-s47",
        "S47 – timeliness and quality",
        "The S47 enquiry is always led by a suitably qualified and experienced registered Social Worker; it is "
        "thorough and timely; The findings in relation to significant harm are clear and result in urgent action to "
        "protect children and young people",
    ),
    (
        "strategy-s47",
        "S47 – engagement with the child",
        "The Social Worker successfully engages with the child as part of the S47 investigation and enables the "
        "child/ young person to share their account and view",
    ),
    (
        "strategy-s47",
        "S47 – impact on the child",
        "The child/ young person understands the process and reason for the S47 investigation, feels listened to "
        "and supported by and throughout the process",
    ),
    # 2: CASE RECORDING
    (
        "case-recording",
        "Case recording - suitability",
        "Comprehensive and up to date records are held and shared between agencies to help and protect children and "
        "young people.",
    ),
    # Realigned: the seed prints "Consideration of case history" and "Family
    # and support network" beside the next two texts, but the texts those
    # names describe are the last two.
    (
        "case-recording",
        None,
        "Case records reflect the work that is undertaken and clearly relate to the plans for the future.",
    ),
    (
        "case-recording",
        None,
        "Case recording is well argued, focused, jargon free and appropriate for the relevant audience; it will "
        "support the child, young person and family in any future access to records to help their understanding of "
        "their journey, the intervention and support put in place",
    ),
    (
        "case-recording",
        "Consideration of case history",
        "The style and clarity of records enhances the understanding that children and young people have about their "
        "histories and experiences. This also includes the effective use of chronologies that reflect significant "
        "events in the child's/ family's life. It supports the analysis of the family's history and identification "
        "of potential patterns.",
    ),
    (
        "case-recording",
        "Family and support network",
        "The child's/ family's relationships and support networks as well as their impact on the family's "
        "functioning and dynamics have been explored; this includes the effective use of genograms and ecomaps",
    ),
    # 3: SUPERVISION/MANAGEMENT OVERSIGHT
    (
        "supervision-oversight",
        "Supervision",
        "Decision-making is undertaken by suitably qualified and experienced social workers and managers, with "
        "decisions, all actions (including timescales) and engagement with the family and other professionals (where "
        "relevant) clearly recorded",
    ),
    (
        "supervision-oversight",
        "Frequency",
        "Supervision takes place at the minimum required timescales, and more often if the complexity of the case "
        "work requires",
    ),
    (
        "supervision-oversight",
        "Triangulation",
        "Supervision offers a forum to link the recommendations of the plan in place, progress on previously agreed "
        "actions and recent developments within the child's and family's life.",
    ),
    (
        "supervision-oversight",
        "Reflection and critical discussion",
        "Supervision offers the opportunity to discuss, debate, reflect and test hypotheses in relation to what is "
        "happening with the child, young person and family",
    ),
    (
        "supervision-oversight",
        "Audit findings",
        "If an audit was completed within the past 6 months, the manager and practitioner engage in a discussion on "
        "the findings and agree on the required actions to progress the case work.",
    ),
    (
        "supervision-oversight",
        # page break: "Manager's/ Senior Manager's" / "“footprint”"
        "Manager's/ Senior Manager's “footprint”",
        "Managers and Senior Managers regularly review the plans and help in place that have been agreed with the "
        "aim to reduce the risk of harm or actual harm",
    ),
    (
        "supervision-oversight",
        "Escalation",
        "Authoritative action is taken where change is not secured and the risk to children intensifies or remains",
    ),
    (
        "supervision-oversight",
        "Response to allegations and poor practice by professionals",
        "Allegations of abuse, mistreatment or poor practice by professionals and carers are taken seriously; steps "
        "are taken to protect children and young people and the management of allegations is robust and effective.",
    ),
    (
        "supervision-oversight",
        "Acknowledgement of and responses to complaints",
        "Complaints are treated seriously and result in a clear response, urgent action and improve services where "
        "that is required.",
    ),
    # 4. CHILD’S LIVED EXPERIENCE
    (
        "lived-experience",
        "The child’s voice, wishes and feelings",
        "Children and young people are given the opportunity to see their allocated social worker alone and are "
        "supported effectively in sharing their views and making their voices heard.",
    ),
    (
        "lived-experience",
        "The child’s awareness of rights & responsibilities",
        "Children and young people are helped to understand their rights and the responsibilities that accompany "
        "those rights and legal entitlements.",
    ),
    (
        "lived-experience",
        None,
        # page break: "… understand how to" / "complain and …"
        "Children, young people and families understand how to complain and have timely access to and use the "
        "services of an advocate where appropriate.",
    ),
    (
        "lived-experience",
        "Ethnicity and diversity",
        "Help, protection, intervention and care for children and young people is sensitive and responsive to age, "
        "disability, ethnicity, faith or belief, gender, gender identity, language, race and sexual orientation",
    ),
    (
        "lived-experience",
        "The child's relationship with professionals",
        "Professionals and carers who know the children and young people well develop positive relationships with "
        "them and are committing to protecting them and promoting their welfare; professionals understand how to "
        "best communicate with children and young people.",
    ),
    (
        "lived-experience",
        "The child's safety",
        "Children and young people are protected or helped to keep themselves safe from bullying, homophobic "
        "behaviour and other forms of discrimination.",
    ),
    (
        "lived-experience",
        "The child's health",
        "Children and young people are in good health or are being helped to improve their health and their health "
        "needs are identified. Child and adolescent mental health provision, therapeutic help and services for "
        "learning for physically disabled children and young people are available when needed for as long as when "
        "they are required.",
    ),
    (
        "lived-experience",
        None,
        "The impact of cultural and social factors, parenting styles, loss/ change, uncertainty on the child's and "
        "young person's development are understood as well as their impact on the building of resilience.",
    ),
    (
        "lived-experience",
        "The child's education",
        # page break: "Children and young" / "people in care …"
        "Children and young people attend school or other educational provision and they learn; Children and young "
        "people in care who do not attend school have access to 25 hours per week of good quality registered "
        "alternative provision.",
    ),
    (
        "lived-experience",
        "The child's interests",
        "Social workers, residential staff and carers support children and young people to enjoy what they do and "
        "to access a range of social, educational and recreational opportunities.",
    ),
    (
        "lived-experience",
        "Stability of the environment",
        "Children and young people live in safe, stable and appropriate homes and families with their brothers and "
        "sisters when this is in their best interest.",
    ),
    (
        "lived-experience",
        "Placement finding",
        "Family –finding strategies are informed by the assessed needs of children and young people.",
    ),
    (
        "lived-experience",
        None,
        "Children and young people are effectively prepared for and carefully matched with, a permanent placement. "
        "Their wishes and feelings are understood and influence the decision about where they live. This is balanced "
        "against what is in their best interest.",
    ),
    (
        "lived-experience",
        "Life Story work",
        "Children and young people are helped to develop secure primary attachments with the adults caring for them. "
        "Social workers help them to understand their lives and their identities through life story work that is "
        "effective and provided when they need it.",
    ),
    # 5. ASSESSMENT
    (
        "assessment",
        "Holistic assessments",
        "Assessments address all domains of the local framework for assessment and identify the needs, risks and "
        "protective factors for the child, including for example private fostering, connected person, Special "
        "Guardianship; they consider the historical context and significant events for each case and result in a "
        "direct offer and plan of help to address these identified needs and risks.",
    ),
    # Realigned: the seed prints "Parental Capacity" beside this text and
    # "Risk Assessment" beside the parental capacity text.
    (
        "assessment",
        None,
        "Accurate and timely assessments of children’s educational needs as well as specialist support where it is "
        "needed help children to make good progress in their learning, and development wherever they live.",
    ),
    (
        "assessment",
        "Parental Capacity",
        "Parental capacity and capability to change is considered and explored as part of the assessment.",
    ),
    ("assessment", "Risk Assessment", "Risks are well understood and minimised."),
    (
        "assessment",
        None,
        "Children and young people who live in households where at least one parent or carer misuses substances or "
        "suffers from mental ill health or where there is domestic violence are helped and protected.",
    ),
    (
        "assessment",
        None,
        # Starts in the seed's Outstanding column and, after a page break,
        # runs on in the Good column.
        "Children and young people who are missing from home, care or fulltime school education, those at risk of "
        "sexual exploitation and trafficking, those offending or misusing drugs alcohol are known by the local "
        "authority and by adults who care for them; they receive well-coordinated responses that reduce the harm or "
        "risk of harm to them.",
    ),
    (
        "assessment",
        "Information sharing between agencies",
        "Information sharing between agencies and professionals is timely, specific and effective and takes full "
        "account of the requirements set out in legislation and guidance about the need to obtain parental consent "
        "for enquiries to be made except where in seeking that consent a child is likely to suffer significant harm "
        "or further harm.",
    ),
    (
        "assessment",
        "Professional curiosity",
        "Professional curiosity by the practitioner is evident whilst a position of partnership working with "
        "families and professionals is maintained.",
    ),
    (
        "assessment",
        "Evidence base",
        "Legislation, policy and evidence based practice is applied appropriately to inform the assessment and "
        "recommendations.",
    ),
    (
        "assessment",
        "Direct work",
        "Assessments result in direct work with children and families and develop in response to that direct work.",
    ),
    (
        "assessment",
        "Ongoing assessments",
        "Assessment and plans are dynamic and change in the light of emerging issues and risks.",
    ),
    (
        "assessment",
        "Authorization by managers",
        "Senior managers have responsibility for authorising the recommended next steps.",
    ),
    (
        "assessment",
        "Sharing with children and families",
        "Assessment reports are shared with children, young people and their families where appropriate and their "
        "feedback on the assessment is actively sought and recorded.",
    ),
    # 6. … Children in Need and on a Child Protection Plan
    (
        CIN_CP,
        "Thresholds",
        "Thresholds for interventions accord with the requirements of legislation; they are appropriate, understood "
        "by partners, consistently applied, well embedded, reviewed and updated regularly. Drift and delay are "
        "avoided.",
    ),
    (
        CIN_CP,
        "Public Law Outline and Care proceedings",
        "There is evidence of the effective use of the public law outline, including letters before proceedings, "
        "family group conferences and parallel planning. Care is used only if this is in the child's best interest. "
        "Children and young people are safely and successfully returned home; where this is not possible, permanent "
        "plans are made for them to live away from the family home (i.e. Special Guardianship orders, Child "
        "Arrangement orders and placement orders). Families are aware of and encouraged to access legal advice and "
        "advocacy.",
    ),
    (
        CIN_CP,
        None,
        "Applications and assessments for care or other orders are accepted by the courts, minimise the appointment "
        "of experts and avoid unnecessary delay.",
    ),
    (
        CIN_CP,
        None,
        "Viability assessments of members of the family are carried out promptly to a good standard and sequential "
        "assessments are avoided.",
    ),
    (
        CIN_CP,
        "Plans",
        # page break: "… through ongoing" / "assessments; …"
        "Plans are dynamic and change in the light of emerging issues and risks as identified through ongoing "
        "assessments; contingency planning is evident.",
    ),
    # Realigned: the seed prints "Multi-agency working" beside the next text
    # (about the plan); the looked-after version puts it beside "… protected
    # through effective and coordinated multi-agency arrangements".
    (
        CIN_CP,
        None,
        "Children who have a child in need or child protection plan have a plan in place that clearly identifies the "
        "work that will be offered to help the family and the necessary changes to be achieved within appropriate "
        "timescales.",
    ),
    (
        CIN_CP,
        None,
        "Children, young people and the families are visited in line with their plan; the plan and progress of the "
        "plan is discussed openly and their views are sought to inform future planning.",
    ),
    (
        CIN_CP,
        None,
        "Social Workers engage with the family who understand the help they will receive, what has to change and "
        "the options for the future.",
    ),
    (
        CIN_CP,
        None,
        "Plans and decisions are reviewed and alternative authoritative action is taken where the circumstances for "
        "children do not change and the risk of harm or actual harm remains or intensifies.",
    ),
    (
        CIN_CP,
        "Multi-agency working",
        "Children and young people are protected through effective and coordinated multi-agency arrangements; "
        "Incidents are monitored.",
    ),
    (
        CIN_CP,
        None,
        "Case conference, Child in Need Meetings, strategy meetings, core groups and multi-agency risk assessment "
        "conferences (MARAC) are attended by key participants and are effective forums for timely information "
        "sharing, planning and risk based decision making.",
    ),
    (
        CIN_CP,
        None,
        # page break: "… often missing," / "there is a clear plan …"
        "Together, agencies take steps to ensure that all children, including those who are excluded from school, "
        "are safe and that for those who are missing or often missing, there is a clear plan of urgent action in "
        "place to protect them and reduce the risk of harm or further harm",
    ),
    (
        CIN_CP,
        "Feedback from children, young people and families",
        "Practice is informed by feedback from children, young people and their families about the effectiveness of "
        "help, care or support they receive from the time it is first needed until it ends.",
    ),
    # 6. … Children who are looked after
    (
        LAC,
        "Thresholds",
        "Thresholds for interventions accord with the requirements of legislation; they are appropriate, understood "
        "by partners, consistently applied, well embedded, reviewed and updated regularly. Drift and delay are "
        "avoided.",
    ),
    (
        LAC,
        "Public Law Outline and Care proceedings",
        "There is evidence of the effective use of the public law outline, including letters before proceedings, "
        "family group conferences and parallel planning. Care is used only if this is in the child's best interest. "
        "Children and young people are safely and successfully returned home, where this is not possible, permanent "
        "plans are made for them to live away from the family home (i.e. Special Guardianship orders, Child "
        "Arrangement orders and placement orders). Families are aware of and encouraged to access legal advice and "
        "advocacy.",
    ),
    (
        LAC,
        None,
        "Applications and assessments for care or other orders are accepted by the courts, minimise the appointment "
        "of experts and avoid unnecessary delay.",
    ),
    # Realigned: the seed prints "Plans" beside this text, which in the
    # first version continues "Public Law Outline and Care proceedings".
    (
        LAC,
        None,
        "Viability assessments of members of the family are carried out promptly to a good standard and sequential "
        "assessments are avoided.",
    ),
    (
        LAC,
        "Plans",
        "Plans are dynamic and change in the light of emerging issues and risks as identified through ongoing "
        "assessments; contingency planning is evident.",
    ),
    (
        LAC,
        None,
        "Plans and decisions are reviewed and alternative authoritative action is taken where the circumstances for "
        "children do not change and the risk of harm or actual harm remains or intensifies.",
    ),
    (
        LAC,
        None,
        "Children and young people are visited in line with their plan; the plan and progress of the plan is "
        "discussed openly and their views are sought to inform future planning.",
    ),
    (
        LAC,
        None,
        "Care plans for looked after children comprehensively address the needs and experiences of children and "
        "young people. They are regularly and independently reviewed, involving - as appropriate - the parents, "
        "kinship carers (connected persons), foster carers, residential staff and other adults who know the "
        "children; Plans for their future are appropriate as well as ambitious.",
    ),
    (
        LAC,
        None,
        # page break: "… looked after children are" / "progressing at school …"
        "The local authority maintains accurate and up to date information about how looked after children are "
        "progressing at school and takes urgent and individual action when they are not achieving well.",
    ),
    (
        LAC,
        "Multi-agency working",
        "Children and young people are protected through effective and coordinated multi-agency arrangements; "
        "Incidents are monitored.",
    ),
    (
        LAC,
        None,
        "Case conference, Child in Need Meetings, strategy meetings, core groups and multi-agency risk assessment "
        "conferences (MARAC) are attended by key participants and are effective forums for timely information "
        "sharing, planning and risk based decision making.",
    ),
    (
        LAC,
        None,
        "Together, agencies take steps to ensure that all children, including those who are excluded from school, "
        "are safe and that for those who are missing or often missing, there is a clear plan of urgent action in "
        "place to protect them and reduce the risk of harm or further harm.",
    ),
    (
        LAC,
        "Contact with family and friends",
        "Children and young people have appropriate, carefully assessed and supported contact with family and "
        "friends, and other people who are important to them.",
    ),
    (
        LAC,
        "Children placed OOB",
        "Placing authorities notify the receiving authority that a looked after child is moving to their area and "
        "assess the adequacy of resources to meet the child's before the placement is made.",
    ),
    (
        LAC,
        "IRO",
        "IRO's bring rigour and challenge to the care planning and monitor the performance of the local authority as "
        "a corporate parent, escalating issues as appropriate.",
    ),
    (
        LAC,
        None,
        # page break: "… their best interest remain" / "paramount. …"
        "IRO's enable timely plans to be agreed to meet the needs of children and to ensure that their best interest "
        "remain paramount. This includes engagement with children’s guardians.",
    ),
    (
        LAC,
        "Rehabilitation",
        "Where the plan for the child or young person is to return home, there is evidence of purposeful work, to "
        "help the family to change so it is safe for the child to return.",
    ),
    (
        LAC,
        None,
        "Further episodes of being looked after are avoided unless they are provided as part of a plan of support.",
    ),
    (
        LAC,
        "Feedback from children, young people and families",
        "Practice is informed by feedback from children, young people and their families about the effectiveness of "
        "help, care or support they receive from the time it is first needed until it ends.",
    ),
)

# The area-wide paragraphs: (section id, grade, text). Grade 1 = the O
# column, 3 = R, 4 = I; area 1's "General" row also gives grade 2.
SEED_AREA_DESCRIPTORS: tuple[tuple[str, int, str], ...] = (
    (
        "strategy-s47",
        1,
        "Risks and protective factors regarding a child's/ young person's safety and well-being are routinely and "
        "consistently given precedence in the decision-making process and workers go to great lengths to ensure that "
        "every child/ young person is safe and protective from significant harm or risk of significant harm.",
    ),
    (
        "strategy-s47",
        2,
        "Children and young people receive help that is proportionate to risk; children and families are not "
        "routinely subjected to formal CP investigations if these are not necessary.",
    ),
    (
        "strategy-s47",
        3,
        "The case work evidenced on file in respect of a strategy discussion/ meeting and S47 investigation lacks "
        "consistency with regards to the various necessary aspects. The engagement with the child does not fully "
        "inform the investigation and assessment and the impact of such on the child is not clear. Some needs may not "
        "have been identified or met.",
    ),
    (
        "strategy-s47",
        4,
        "There is no evidence that a strategy meeting/ discussion and S47 investigation is arranged and initiated as "
        "required. There remain risks that have not been identified, assessed or reduced and therefore the level of "
        "harm/ risk of harm remains for the child remains.",
    ),
    (
        "case-recording",
        1,
        "There is a clear focus of the work which is routinely and consistently evidenced on file. Case recording is "
        "exceptionally thorough and balanced, showing exceeding professionalism.",
    ),
    (
        "case-recording",
        3,
        "Case records do not consistently reflect the work undertaken and do not allow to get a clear and holistic "
        "picture of the child's and family's journey, including their family history and family/ support network.",
    ),
    (
        "case-recording",
        4,
        "There are significant gaps in the case recording that do not to consider the family's history and support "
        "network. Case records on file do not evidence the work undertaken with the child and family.",
    ),
    (
        "supervision-oversight",
        1,
        "Management oversight is robust and decisions are regularly, routinely and consistently scrutinised by "
        "managers in supervision sessions that also facilitate reflective discussions.",
    ),
    (
        "supervision-oversight",
        3,
        "The work evidenced on file does not consistently reflect the decisions taken, including the rationale for "
        "them, in a timely way; there is inconsistency in linking supervision with plans in place and their progress.",
    ),
    (
        "supervision-oversight",
        4,
        "There are significant gaps in the evidence of supervision including case discussion, review of actions and "
        "their progress as well as planning and agreeing on a way forward. The level of management oversight is not "
        "sufficient in response to significant events/ concerns.",
    ),
    (
        "lived-experience",
        1,
        # page break: "… most appropriate care and" / "that transitions …"
        "The child/ young person understands their rights and responsibilities and uses the advocacy service to "
        "complain if they have concerns. The child’s needs are thoughtfully reviewed to ensure that they receive the "
        "most appropriate care and that transitions into adult services (where relevant) is very well managed.",
    ),
    (
        "lived-experience",
        1,
        "The child/ young person has very good access to a range of health and well-being services, as their needs "
        "require.",
    ),
    ("lived-experience", 1, "The child's journey is routinely and consistently evidenced on file."),
    (
        "lived-experience",
        3,
        # page break: "… wishes, feelings and" / "experiences."
        "The evidence of the case work does not consistently inform and reflect the engagement with children and "
        "young people, including a clear understanding of their views, wishes, feelings and experiences.",
    ),
    (
        "lived-experience",
        3,
        "The child's/ young person's particular needs appear to be not fully, comprehensively and consistently "
        "identified and recognised.",
    ),
    (
        "lived-experience",
        4,
        # page break: "… their experiences is not" / "assessed and/ or …"
        "The child’s views, wishes, feelings and experiences are not reflected and/ or not understood and "
        "acknowledged. The child’s journey and the impact of their experiences is not assessed and/ or recognised, "
        "leaving the child's needs largely unmet (or unknown) and causing a level of stress, instability and risk for "
        "the child.",
    ),
    ("assessment", 1, "The assessment of the child’s needs is exceeding and holistic."),
    ("assessment", 1, "Risk is carefully assessed to ensure that child/ young person stays safe and feels safe."),
    (
        "assessment",
        1,
        "Assessments are regularly, routinely and consistently reviewed and updated to reflect changes in "
        "circumstances and actions taken to address individual needs.",
    ),
    (
        "assessment",
        3,
        "The work evidenced on the file does not consistently, fully and holistically assess the child’s needs, risks "
        "and protective factors. There is inconsistency in the assessment of parental capacity and risk to the child "
        "which has also some impact on the effectiveness of a risk management plan. The assessment does not "
        "explicitly make reference to relevant research and legislation and lacks professional curiosity and "
        "analysis.",
    ),
    (
        "assessment",
        4,
        "The assessment does not recognise and consider significant areas of the child’s needs and protective "
        "factors. Risk is not identified or not assessed; therefore the risk management plan (if in place) is largely "
        "ineffective. The assessment is not timely and/ or out of date and does not reflect the child’s and family’s "
        "current circumstances.",
    ),
    (
        CIN_CP,
        1,
        "Plans are consistently up to date, comprehensive and very well targeted to meet the child's/ young person's "
        "individual needs.",
    ),
    (
        CIN_CP,
        1,
        "Reviews are timely and plans demonstrate very good engagement of children, young people and their families, "
        "ensuring that their wishes, feelings and aspirations are clearly expressed. The file clearly evidences an "
        "exceeding positive impact of the professional intervention provided to the child and family.",
    ),
    (
        CIN_CP,
        3,
        "Agreed plans (and the reviews of them) are not consistently SMART which has some impact on their overall "
        "effectiveness. There is a lack of consistency in the involvement of and collaboration with the multi-agency "
        "network. Children and families are not consistently visited in line with required timescales as well as "
        "with their needs.",
    ),
    (
        CIN_CP,
        3,
        "Feedback from children and families is not consistently acknowledged and used to inform future work.",
    ),
    (
        CIN_CP,
        4,
        "Plans, if in place, are not effective and SMART which causes significant drift and delay for the child.",
    ),
    (
        LAC,
        1,
        "Plans are consistently up to date, comprehensive and very well targeted to meet the child's/ young person's "
        "individual needs.",
    ),
    (
        LAC,
        1,
        # page break: "… the professional intervention" / "provided to …"
        "Reviews are timely and plans demonstrate very good engagement of children, young people and their families, "
        "ensuring that their wishes, feelings and aspirations are clearly expressed. The file clearly evidences an "
        "exceeding positive impact of the professional intervention provided to the child and family.",
    ),
    (
        LAC,
        3,
        "Agreed plans (and the reviews of them) are not consistently SMART which has some impact on their overall "
        "effectiveness. There is a lack of consistency in the involvement of and collaboration with the multi-agency "
        "network.",
    ),
    (
        LAC,
        3,
        "Children and families are not consistently visited in line with required timescales as well as their needs.",
    ),
    (
        LAC,
        3,
        "Feedback from children and families is not consistently acknowledged and used to inform future work.",
    ),
    (
        LAC,
        4,
        "Plans, if in place, are not effective and SMART which causes significant drift and delay for the child.",
    ),
)

# The seed's column headings: "O: Outstanding", "G: Good", …
SEED_SCALE = (
    (1, "O", "Outstanding"),
    (2, "G", "Good"),
    (3, "R", "Requires Improvement"),
    (4, "I", "Inadequate"),
)


@pytest.fixture(scope="module")
def toolkit() -> Toolkit:
    return load_toolkit(FILE)


def test_the_definition_loads_with_no_problems(toolkit: Toolkit) -> None:
    assert toolkit.id == "csc-practice-criteria"
    assert toolkit.version == 1
    assert toolkit.source == "001_63ace02ca8385ae6.txt"
    assert toolkit.merge_policy == "weakest-link"
    assert check_toolkit(toolkit, agency_kinds=AGENCY_KIND_CODES, merge_policies={"weakest-link"}) == []


def test_the_scale_is_the_seeds_lettered_scale(toolkit: Toolkit) -> None:
    assert toolkit.scale.id == "ogri"
    assert [(g.value, g.code, g.label) for g in toolkit.scale.grades] == list(SEED_SCALE)


def test_areas_are_in_the_seeds_order_with_its_headings(toolkit: Toolkit) -> None:
    assert [s.id for s in toolkit.sections] == ["case-details", *(section_id for section_id, _ in SEED_AREAS)]
    for section_id, heading in SEED_AREAS:
        assert section_of(toolkit, section_id).title == heading


@pytest.mark.parametrize(("section_id", "criterion", "text"), SEED_GOOD, ids=lambda v: str(v)[:50])
def test_every_good_descriptor_is_in_its_area(
    toolkit: Toolkit, section_id: str, criterion: str | None, text: str
) -> None:
    haystack = section_texts(section_of(toolkit, section_id))
    assert collapse(text) in haystack
    if criterion is not None:
        assert collapse(criterion) in haystack


@pytest.mark.parametrize(("section_id", "criterion", "text"), SEED_GOOD, ids=lambda v: str(v)[:50])
def test_each_row_of_the_good_column_is_one_graded_question(
    toolkit: Toolkit, section_id: str, criterion: str | None, text: str
) -> None:
    section = section_of(toolkit, section_id)
    matches = [q for q in section.questions if collapse(q.descriptors.get(2, "")) == collapse(text)]
    assert len(matches) == 1, f"{text[:60]!r} is not the Good descriptor of one question"
    question = matches[0]
    assert question.kind == "grade"
    # The Good column is per criterion; the other columns are the area's.
    assert set(question.descriptors) == {2}
    assert question.comments == "optional"
    assert question.evidence == "optional"
    if criterion is not None:
        assert question.text == criterion
    else:
        # A continuation row is named by its descriptor's opening words.
        assert question.text.endswith("…")
        assert collapse(text).startswith(collapse(question.text.removesuffix("…")))


def test_no_question_beyond_the_seeds_rows(toolkit: Toolkit) -> None:
    expected: dict[str, int] = {"case-details": 1}
    for section_id, _, _ in SEED_GOOD:
        expected[section_id] = expected.get(section_id, 0) + 1
    assert {s.id: len(s.questions) for s in toolkit.sections} == expected


@pytest.mark.parametrize(("section_id", "grade", "text"), SEED_AREA_DESCRIPTORS, ids=lambda v: str(v)[:50])
def test_the_area_wide_columns_are_the_areas_judgement_descriptors(
    toolkit: Toolkit, section_id: str, grade: int, text: str
) -> None:
    section = section_of(toolkit, section_id)
    assert collapse(text) in section_texts(section)
    assert section.judgement is not None
    assert collapse(text) in collapse(section.judgement.descriptors[grade])


@pytest.mark.parametrize(("section_id", "heading"), SEED_AREAS)
def test_every_area_is_judged(toolkit: Toolkit, section_id: str, heading: str) -> None:
    section = section_of(toolkit, section_id)
    assert section.completed_by == "agency"
    assert section.counts_towards_overall
    assert section.judgement is not None
    assert section.judgement.prompt.startswith("Overall grade for ")
    assert section.judgement.impact_label == "Evidence and impact"
    # Only area 1 has a "General" row, with a Good text for the whole area.
    expected = {1, 2, 3, 4} if section_id == "strategy-s47" else {1, 3, 4}
    assert set(section.judgement.descriptors) == expected
    assert {grade for sid, grade, _ in SEED_AREA_DESCRIPTORS if sid == section_id} == expected


def test_the_strategy_area_judgement_prompt(toolkit: Toolkit) -> None:
    judgement = section_of(toolkit, "strategy-s47").judgement
    assert judgement is not None
    assert judgement.prompt == "Overall grade for strategy discussion/ Section 47 investigation"


def test_the_plan_type_is_a_case_detail_given_by_the_coordinator(toolkit: Toolkit) -> None:
    section = section_of(toolkit, "case-details")
    assert section.completed_by == "coordinator"
    assert section.judgement is None
    (plan_type,) = section.questions
    assert plan_type.id == "plan-type"
    assert plan_type.text == "Type of plan"
    assert plan_type.kind == "single-choice"
    assert [(c.value, c.label) for c in plan_type.choices] == [
        ("cin-cp", "Child in need / child protection plan"),
        ("looked-after", "Looked after child"),
    ]


def test_the_two_planning_and_review_variants_are_conditional(toolkit: Toolkit) -> None:
    cin_cp = section_of(toolkit, CIN_CP)
    lac = section_of(toolkit, LAC)
    assert cin_cp.condition is not None
    assert (cin_cp.condition.case_detail, cin_cp.condition.any_of) == ("plan-type", ("cin-cp",))
    assert lac.condition is not None
    assert (lac.condition.case_detail, lac.condition.any_of) == ("plan-type", ("looked-after",))
    # No other area is conditional.
    assert [s.id for s in toolkit.sections if s.condition is not None] == [CIN_CP, LAC]


@pytest.mark.parametrize(("plan_type", "shown", "hidden"), [("cin-cp", CIN_CP, LAC), ("looked-after", LAC, CIN_CP)])
def test_a_social_care_auditor_sees_the_variant_of_the_childs_plan(
    toolkit: Toolkit, plan_type: str, shown: str, hidden: str
) -> None:
    social_care = Participant(agency_kind="childrens-social-care")
    ids = [s.id for s in applicable_sections(toolkit, social_care, {"plan-type": plan_type})]
    assert shown in ids
    assert hidden not in ids
    assert ids == [*(section_id for section_id, _ in SEED_AREAS[:5]), shown]


def test_the_tool_is_for_childrens_social_care_auditors(toolkit: Toolkit) -> None:
    assert toolkit.default_applies_to == "csc"
    assert toolkit.selectors["csc"].agencies == ("childrens-social-care",)
    # Another agency has nothing to answer or judge.
    assert applicable_sections(toolkit, Participant(agency_kind="health"), {"plan-type": "cin-cp"}) == ()


def test_question_ids_are_unique_across_the_variants(toolkit: Toolkit) -> None:
    # Section and question ids are both FHIR linkIds.
    ids = [s.id for s in toolkit.sections] + [q.id for s in toolkit.sections for q in s.questions]
    assert len(ids) == len(set(ids))
    assert all(q.id.startswith("cin-cp-") for q in section_of(toolkit, CIN_CP).questions)
    assert all(q.id.startswith("lac-") for q in section_of(toolkit, LAC).questions)


def test_no_html_is_left(toolkit: Toolkit) -> None:
    for section in toolkit.sections:
        assert "<" not in section_texts(section), section.id
